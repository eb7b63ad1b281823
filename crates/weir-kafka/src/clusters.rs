//! MSK's control plane state: clusters and configurations as the `kafka` API creates them.
//! Each cluster is a namespace of topics served by this process on listeners of its own (the
//! `ClusterDoors` the server sets: its bootstrap strings, its streams in a namespace of their
//! own, its groups and topic configs); a cluster is CREATING for a moment and then ACTIVE,
//! DELETING (its listeners closed, its topics deleted) and then gone. Clusters saved before
//! clusters had listeners are served by the broker's own listener and topics. What a caller
//! gave (broker node group, authentication, encryption, ...) is kept as given and described
//! back. Kept in `kafka/clusters.json` under the data directory, rewritten whole on change.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const FILE: &str = "clusters.json";

/// One cluster (provisioned or serverless).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub arn: String,
    pub name: String,
    pub region: String,
    /// PROVISIONED or SERVERLESS.
    pub kind: String,
    pub created_ms: i64,
    /// When DeleteCluster was called.
    pub deleted_ms: Option<i64>,
    /// The request's members as given (member names of the API model).
    pub spec: Value,
    pub tags: BTreeMap<String, String>,
    /// Bumped by each change, as MSK's `CurrentVersion`.
    pub version: u32,
    /// Where the cluster is served (None: by the broker's own listener and topics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listeners: Option<ClusterListeners>,
}

/// A cluster's own Kafka listeners and topic namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterListeners {
    /// `host:port` of its plaintext listener.
    pub plain: String,
    /// `host:port` of its TLS listener, when Kafka is served over TLS.
    pub tls: Option<String>,
    /// The region key of the streams that are its topics (no AWS region is named so).
    pub namespace: String,
}

/// Opens and closes clusters' listeners (the server's part: it owns sockets and tasks).
pub trait ClusterDoors: Send + Sync {
    /// Serves cluster `c` on listeners of its own, at `was`'s ports when given (a restart
    /// keeps a cluster's bootstrap strings when it can).
    fn open(&self, c: &Cluster, was: Option<&ClusterListeners>) -> io::Result<ClusterListeners>;
    /// Stops serving `c` and deletes its topics.
    fn close(&self, c: &Cluster);
    /// Deletes what is left of clusters other than `known` (deleted before a crash, their
    /// records already gone).
    fn forget_others(&self, _known: &[Cluster]) {}
}

/// One configuration and its revisions (server.properties text each).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Configuration {
    pub arn: String,
    pub name: String,
    pub region: String,
    pub description: String,
    pub kafka_versions: Vec<String>,
    /// (created ms, description, server properties) per revision, revision 1 first.
    pub revisions: Vec<(i64, String, String)>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Default, Serialize, Deserialize)]
struct State {
    clusters: Vec<Cluster>,
    configurations: Vec<Configuration>,
}

/// Where a cluster is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterState {
    Creating,
    Active,
    Deleting,
}

impl ClusterState {
    pub fn name(self) -> &'static str {
        match self {
            ClusterState::Creating => "CREATING",
            ClusterState::Active => "ACTIVE",
            ClusterState::Deleting => "DELETING",
        }
    }
}

struct Inner {
    /// Where `clusters.json` lives (memory only when None).
    dir: Option<PathBuf>,
    state: Mutex<State>,
    /// How long creating and deleting take.
    delay_ms: i64,
    /// This broker's address (`host:port`), when the Kafka listener is on.
    bootstrap: Option<String>,
    /// Its TLS listener's address, when there is one.
    bootstrap_tls: Option<String>,
    /// The region whose streams are the broker's topics.
    topics_region: String,
    /// Opens clusters' own listeners (None: every cluster is served by the broker's).
    doors: Mutex<Option<Arc<dyn ClusterDoors>>>,
}

/// The clusters and configurations (cheap to clone).
#[derive(Clone)]
pub struct Clusters(Arc<Inner>);

impl Clusters {
    pub fn open(
        dir: Option<PathBuf>,
        bootstrap: Option<String>,
        bootstrap_tls: Option<String>,
        topics_region: String,
        delay_ms: i64,
    ) -> io::Result<Clusters> {
        let path = dir.as_ref().map(|d| d.join(FILE));
        let state = match &path {
            Some(p) => match std::fs::read(p) {
                Ok(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => State::default(),
                Err(e) => return Err(e),
            },
            None => State::default(),
        };
        Ok(Clusters(Arc::new(Inner {
            dir,
            state: Mutex::new(state),
            delay_ms,
            bootstrap,
            bootstrap_tls,
            topics_region,
            doors: Mutex::new(None),
        })))
    }

    /// Serves clusters on listeners of their own from now on, and reopens those of the
    /// clusters saved with listeners (at their ports when still free).
    /// A cluster that cannot be opened is logged and left without listeners; a cluster
    /// deleted before a crash (or a stop) has its topics removed again.
    pub fn set_doors(&self, doors: Arc<dyn ClusterDoors>, now_ms: i64) -> io::Result<()> {
        *self.0.doors.lock() = Some(doors.clone());
        let known: Vec<Cluster> = self.0.state.lock().clusters.clone();
        for c in known
            .iter()
            .filter(|c| c.deleted_ms.is_some() && c.listeners.is_some())
        {
            doors.close(c);
        }
        doors.forget_others(&known);
        let live: Vec<Cluster> = {
            let mut state = self.0.state.lock();
            self.purge(&mut state, now_ms);
            state
                .clusters
                .iter()
                .filter(|c| c.deleted_ms.is_none() && c.listeners.is_some())
                .cloned()
                .collect()
        };
        for c in live {
            let opened = match doors.open(&c, c.listeners.as_ref()) {
                Ok(o) => o,
                Err(e) => {
                    tracing::error!(cluster = %c.name, error = %e, "an MSK cluster could not be served");
                    continue;
                }
            };
            if Some(&opened) != c.listeners.as_ref() {
                self.update(now_ms, |s| {
                    if let Some(saved) = s.clusters.iter_mut().find(|x| x.arn == c.arn) {
                        saved.listeners = Some(opened.clone());
                    }
                    Ok(())
                })
                .map_err(|e| io::Error::other(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn doors(&self) -> Option<Arc<dyn ClusterDoors>> {
        self.0.doors.lock().clone()
    }

    /// A cluster's plaintext and TLS bootstrap strings (None when Kafka is not served).
    pub fn bootstrap_of(&self, c: &Cluster) -> Option<(String, Option<String>)> {
        match &c.listeners {
            Some(_) if self.doors().is_none() => None,
            Some(l) => Some((l.plain.clone(), l.tls.clone())),
            None => Some((
                self.bootstrap()?.to_string(),
                self.bootstrap_tls().map(str::to_string),
            )),
        }
    }

    /// The region key of the streams that are a cluster's topics.
    pub fn namespace_of(&self, c: &Cluster) -> String {
        match &c.listeners {
            Some(l) => l.namespace.clone(),
            None => self.topics_region().to_string(),
        }
    }

    /// The broker's `host:port`, when Kafka is served.
    pub fn bootstrap(&self) -> Option<&str> {
        self.0.bootstrap.as_deref()
    }

    /// The region whose streams are the topics of every cluster.
    pub fn topics_region(&self) -> &str {
        &self.0.topics_region
    }

    /// The broker's TLS `host:port`, when Kafka is served over TLS.
    pub fn bootstrap_tls(&self) -> Option<&str> {
        self.0.bootstrap_tls.as_deref()
    }

    pub fn state_of(&self, c: &Cluster, now_ms: i64) -> ClusterState {
        match c.deleted_ms {
            Some(_) => ClusterState::Deleting,
            None if now_ms < c.created_ms + self.0.delay_ms => ClusterState::Creating,
            None => ClusterState::Active,
        }
    }

    /// Drops clusters whose deletion is over.
    fn purge(&self, state: &mut State, now_ms: i64) {
        let delay = self.0.delay_ms;
        state
            .clusters
            .retain(|c| c.deleted_ms.is_none_or(|d| now_ms < d + delay));
    }

    fn save(&self, state: &State) -> io::Result<()> {
        let Some(dir) = &self.0.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)?;
        let bytes = serde_json::to_vec(state)?;
        weir_log::meta::write_atomic(dir, FILE, &bytes)
    }

    /// Applies `change` to the state and saves it; the change's answer.
    fn update<T>(
        &self,
        now_ms: i64,
        change: impl FnOnce(&mut State) -> Result<T, ClusterError>,
    ) -> Result<T, ClusterError> {
        let mut state = self.0.state.lock();
        self.purge(&mut state, now_ms);
        // Changed on a copy, kept only once saved.
        let mut next = State {
            clusters: state.clusters.clone(),
            configurations: state.configurations.clone(),
        };
        let out = change(&mut next)?;
        self.save(&next)
            .map_err(|e| ClusterError::Storage(e.to_string()))?;
        *state = next;
        Ok(out)
    }

    pub fn create_cluster(&self, mut cluster: Cluster) -> Result<Cluster, ClusterError> {
        let now = cluster.created_ms;
        let doors = self.doors();
        if let Some(d) = &doors {
            let opened = d
                .open(&cluster, None)
                .map_err(|e| ClusterError::Storage(format!("opening its listeners: {e}")))?;
            cluster.listeners = Some(opened);
        }
        let made = self.update(now, |s| {
            let taken = s
                .clusters
                .iter()
                .any(|c| c.name == cluster.name && c.region == cluster.region);
            if taken {
                return Err(ClusterError::Conflict(format!(
                    "A cluster with the name {} already exists.",
                    cluster.name
                )));
            }
            s.clusters.push(cluster.clone());
            Ok(cluster.clone())
        });
        if let (Err(_), Some(d)) = (&made, &doors) {
            d.close(&cluster);
        }
        made
    }

    pub fn cluster(&self, arn: &str, now_ms: i64) -> Option<Cluster> {
        let mut state = self.0.state.lock();
        self.purge(&mut state, now_ms);
        state.clusters.iter().find(|c| c.arn == arn).cloned()
    }

    pub fn clusters(&self, region: &str, now_ms: i64) -> Vec<Cluster> {
        let mut state = self.0.state.lock();
        self.purge(&mut state, now_ms);
        let mut out: Vec<Cluster> = state
            .clusters
            .iter()
            .filter(|c| c.region == region)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn delete_cluster(&self, arn: &str, now_ms: i64) -> Result<Cluster, ClusterError> {
        self.update(now_ms, |s| {
            let c = s
                .clusters
                .iter_mut()
                .find(|c| c.arn == arn)
                .ok_or_else(|| not_found(arn))?;
            c.deleted_ms.get_or_insert(now_ms);
            Ok(c.clone())
        })
        .inspect(|c| {
            if let (Some(d), Some(_)) = (self.doors(), &c.listeners) {
                d.close(c);
            }
        })
    }

    /// Tags on a cluster or configuration: added (`add`), removed (`remove`).
    pub fn tag(
        &self,
        arn: &str,
        add: BTreeMap<String, String>,
        remove: &[String],
        now_ms: i64,
    ) -> Result<BTreeMap<String, String>, ClusterError> {
        self.update(now_ms, |s| {
            let tags = match s.clusters.iter_mut().find(|c| c.arn == arn) {
                Some(c) => &mut c.tags,
                None => {
                    &mut s
                        .configurations
                        .iter_mut()
                        .find(|c| c.arn == arn)
                        .ok_or_else(|| not_found(arn))?
                        .tags
                }
            };
            tags.extend(add);
            for k in remove {
                tags.remove(k);
            }
            Ok(tags.clone())
        })
    }

    /// The tags of a cluster or configuration.
    pub fn tags(&self, arn: &str, now_ms: i64) -> Result<BTreeMap<String, String>, ClusterError> {
        let mut state = self.0.state.lock();
        self.purge(&mut state, now_ms);
        let cluster = state
            .clusters
            .iter()
            .find(|c| c.arn == arn)
            .map(|c| &c.tags);
        let config = || {
            state
                .configurations
                .iter()
                .find(|c| c.arn == arn)
                .map(|c| &c.tags)
        };
        cluster
            .or_else(config)
            .cloned()
            .ok_or_else(|| not_found(arn))
    }

    pub fn create_configuration(
        &self,
        c: Configuration,
        now_ms: i64,
    ) -> Result<Configuration, ClusterError> {
        self.update(now_ms, |s| {
            if s.configurations
                .iter()
                .any(|x| x.name == c.name && x.region == c.region)
            {
                return Err(ClusterError::Conflict(format!(
                    "A configuration with the name {} already exists.",
                    c.name
                )));
            }
            s.configurations.push(c.clone());
            Ok(c)
        })
    }

    pub fn configuration(&self, arn: &str) -> Option<Configuration> {
        let state = self.0.state.lock();
        state.configurations.iter().find(|c| c.arn == arn).cloned()
    }

    pub fn configurations(&self, region: &str) -> Vec<Configuration> {
        let state = self.0.state.lock();
        let mut out: Vec<Configuration> = state
            .configurations
            .iter()
            .filter(|c| c.region == region)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

fn not_found(arn: &str) -> ClusterError {
    ClusterError::NotFound(format!(
        "The resource {arn} does not exist. Check the ARN and try again."
    ))
}

/// What the control plane refuses, by MSK's error type.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Storage(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str, now: i64) -> Cluster {
        Cluster {
            arn: format!("arn:aws:kafka:us-east-1:000000000000:cluster/{name}/u-1"),
            name: name.into(),
            region: "us-east-1".into(),
            kind: "PROVISIONED".into(),
            created_ms: now,
            deleted_ms: None,
            spec: Value::Null,
            tags: BTreeMap::new(),
            version: 1,
            listeners: None,
        }
    }

    /// Doors that hand out ports 9100, 9101, ... and note what was closed.
    #[derive(Default)]
    struct FakeDoors {
        next: Mutex<u16>,
        closed: Mutex<Vec<String>>,
    }

    impl ClusterDoors for FakeDoors {
        fn open(
            &self,
            c: &Cluster,
            was: Option<&ClusterListeners>,
        ) -> io::Result<ClusterListeners> {
            if let Some(w) = was {
                return Ok(w.clone());
            }
            let mut next = self.next.lock();
            *next += 1;
            Ok(ClusterListeners {
                plain: format!("h:{}", 9099 + *next),
                tls: None,
                namespace: format!("msk-{}", c.name),
            })
        }

        fn close(&self, c: &Cluster) {
            self.closed.lock().push(c.name.clone());
        }
    }

    #[test]
    fn clusters_get_listeners_of_their_own_kept_across_a_reopen() {
        let dir = tempfile::tempdir().expect("tmp");
        let open = || {
            Clusters::open(
                Some(dir.path().to_path_buf()),
                Some("h:9092".into()),
                None,
                "us-east-1".into(),
                0,
            )
            .expect("open")
        };
        let clusters = open();
        // Before doors are set (or for clusters saved before them): the broker's listener.
        let old = clusters.create_cluster(cluster("old", 1)).expect("create");
        assert_eq!(clusters.bootstrap_of(&old), Some(("h:9092".into(), None)));
        assert_eq!(clusters.namespace_of(&old), "us-east-1");
        let doors = Arc::new(FakeDoors::default());
        clusters.set_doors(doors.clone(), 2).expect("doors");
        let a = clusters.create_cluster(cluster("a", 3)).expect("create");
        assert_eq!(clusters.bootstrap_of(&a), Some(("h:9100".into(), None)));
        assert_eq!(clusters.namespace_of(&a), "msk-a");
        // A name taken: the door opened for it is closed again.
        assert!(clusters.create_cluster(cluster("a", 4)).is_err());
        assert_eq!(*doors.closed.lock(), vec!["a".to_string()]);
        // Reopened: the saved listeners come back.
        drop(clusters);
        let clusters = open();
        let again = Arc::new(FakeDoors::default());
        clusters.set_doors(again.clone(), 5).expect("doors");
        let a = clusters.cluster(&a.arn, 5).expect("kept");
        assert_eq!(clusters.bootstrap_of(&a), Some(("h:9100".into(), None)));
        clusters.delete_cluster(&a.arn, 6).expect("delete");
        assert_eq!(*again.closed.lock(), vec!["a".to_string()]);
    }

    #[test]
    fn clusters_live_creating_active_deleting_gone_and_persist() {
        let dir = std::env::temp_dir().join(format!("weir-msk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cs = Clusters::open(
            Some(dir.clone()),
            Some("h:1".into()),
            None,
            "us-east-1".into(),
            100,
        )
        .unwrap();
        let c = cs.create_cluster(cluster("a", 1_000)).unwrap();
        assert!(matches!(
            cs.create_cluster(cluster("a", 1_001)),
            Err(ClusterError::Conflict(_))
        ));
        assert_eq!(cs.state_of(&c, 1_050), ClusterState::Creating);
        assert_eq!(cs.state_of(&c, 1_100), ClusterState::Active);
        let tags = cs
            .tag(
                &c.arn,
                [("k".to_string(), "v".to_string())].into(),
                &[],
                1_200,
            )
            .unwrap();
        assert_eq!(tags.len(), 1);
        let again = Clusters::open(Some(dir.clone()), None, None, "us-east-1".into(), 100).unwrap();
        assert_eq!(again.cluster(&c.arn, 1_300).unwrap().tags, tags);
        let d = again.delete_cluster(&c.arn, 2_000).unwrap();
        assert_eq!(again.state_of(&d, 2_050), ClusterState::Deleting);
        assert!(again.cluster(&c.arn, 2_100).is_none());
        assert!(matches!(
            again.delete_cluster(&c.arn, 2_200),
            Err(ClusterError::NotFound(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
