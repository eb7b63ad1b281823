//! MSK clusters' own Kafka listeners: each cluster the `kafka` API creates is served by a Kafka
//! front door of its own (a plaintext listener, and a TLS one when Kafka is served over TLS) on
//! the broker's address, whose topics are streams in the cluster's namespace, with its own
//! consumer groups and topic configs (`<data>/kafka/clusters/<id>/`). Deleting the cluster
//! closes its listeners and deletes its topics.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Mutex;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use weir_kafka::{Cluster, ClusterDoors, ClusterListeners, KafkaDoor, KafkaOptions, TlsConfig};
use weir_log::{Log, StreamKey};

type Running = HashMap<String, (oneshot::Sender<()>, JoinHandle<()>)>;

/// Opens and closes the clusters' front doors.
pub struct MskDoors {
    log: Log,
    /// The broker's options; each door changes its ports, namespace and data directory.
    template: KafkaOptions,
    /// The address the listeners bind (the broker's listener's).
    bind_ip: IpAddr,
    /// The host clients are told (empty: the bound address).
    advertised_host: String,
    tls: Option<TlsConfig>,
    data_dir: PathBuf,
    /// Turns true when the server stops.
    stop: watch::Receiver<bool>,
    running: Mutex<Running>,
}

impl MskDoors {
    pub fn new(
        log: Log,
        template: KafkaOptions,
        bind_ip: IpAddr,
        advertised_host: String,
        tls: Option<TlsConfig>,
        data_dir: PathBuf,
        stop: watch::Receiver<bool>,
    ) -> MskDoors {
        MskDoors {
            log,
            template,
            bind_ip,
            advertised_host,
            tls,
            data_dir,
            stop,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Waits (a few seconds at most) for every door to finish once the server stops.
    pub async fn drain(&self) {
        let tasks: Vec<JoinHandle<()>> = self.running().drain().map(|(_, (_, t))| t).collect();
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A listener at `port` (its earlier one) when it is free, else at any port.
    fn bind(&self, port: Option<u16>) -> io::Result<tokio::net::TcpListener> {
        let at = |p: u16| std::net::TcpListener::bind(SocketAddr::new(self.bind_ip, p));
        let l = match port.map(at) {
            Some(Ok(l)) => l,
            _ => at(0)?,
        };
        l.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(l)
    }

    fn advertised(&self, a: SocketAddr) -> String {
        match self.advertised_host.is_empty() {
            true => a.to_string(),
            false => format!("{}:{}", self.advertised_host, a.port()),
        }
    }
}

/// The cluster's id: the last part of its ARN (`.../cluster/<name>/<uuid>`).
fn cluster_id(c: &Cluster) -> String {
    c.arn.rsplit('/').next().unwrap_or(&c.name).to_string()
}

fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

impl ClusterDoors for MskDoors {
    fn open(&self, c: &Cluster, was: Option<&ClusterListeners>) -> io::Result<ClusterListeners> {
        if *self.stop.borrow() {
            return Err(io::Error::other("the server is stopping"));
        }
        let id = cluster_id(c);
        let plain = self.bind(was.and_then(|w| port_of(&w.plain)))?;
        let tls = match &self.tls {
            Some(config) => {
                let port = was.and_then(|w| w.tls.as_deref()).and_then(port_of);
                Some((self.bind(port)?, config.clone()))
            }
            None => None,
        };
        let plain_addr = plain.local_addr()?;
        let tls_addr = match &tls {
            Some((l, _)) => Some(l.local_addr()?),
            None => None,
        };
        let namespace = format!("msk-{id}");
        let mut opts = self.template.clone();
        opts.port = i32::from(plain_addr.port());
        opts.tls_port = tls_addr.map(|a| i32::from(a.port()));
        opts.region = namespace.clone();
        opts.data_dir = Some(self.data_dir.join("kafka").join("clusters").join(&id));
        let door = KafkaDoor::open(self.log.clone(), opts)?;
        let (tx, rx) = oneshot::channel::<()>();
        let mut stop = self.stop.clone();
        let task = tokio::spawn(weir_kafka::serve(plain, tls, door, async move {
            tokio::select! {
                _ = rx => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }));
        if let Some((old, _)) = self.running().insert(c.arn.clone(), (tx, task)) {
            let _ = old.send(());
        }
        tracing::info!(cluster = %c.name, addr = %plain_addr, "MSK cluster listening");
        Ok(ClusterListeners {
            plain: self.advertised(plain_addr),
            tls: tls_addr.map(|a| self.advertised(a)),
            namespace,
        })
    }

    fn close(&self, c: &Cluster) {
        let running = self.running().remove(&c.arn);
        if c.listeners.is_some() {
            self.remove_files(cluster_id(c), c.name.clone(), running);
        }
    }

    fn forget_others(&self, known: &[Cluster]) {
        let ids: std::collections::HashSet<String> = known.iter().map(cluster_id).collect();
        let Ok(dirs) = std::fs::read_dir(self.data_dir.join("kafka").join("clusters")) else {
            return;
        };
        for d in dirs.filter_map(|d| d.ok()) {
            let Ok(id) = d.file_name().into_string() else {
                continue;
            };
            if !ids.contains(&id) {
                tracing::info!(cluster = %id, "removing the topics of a cluster deleted before a stop");
                self.remove_files(id.clone(), id, None);
            }
        }
    }
}

impl MskDoors {
    /// Stops a cluster's door (when running), then deletes its topics and files, off the
    /// async threads: the door finishes the requests it is answering first (one of them could
    /// create a topic).
    fn remove_files(
        &self,
        id: String,
        name: String,
        running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
    ) {
        let log = self.log.clone();
        let namespace = format!("msk-{id}");
        let dir = self.data_dir.join("kafka").join("clusters").join(&id);
        let cleanup = async move {
            if let Some((stop, task)) = running {
                let _ = stop.send(());
                let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
            }
            let removed = tokio::task::spawn_blocking(move || {
                for s in log.list_streams(&namespace) {
                    let key = StreamKey::new(namespace.clone(), s.name.clone());
                    if let Err(e) = log.delete_stream(&key, true) {
                        tracing::warn!(cluster = %name, topic = %s.name, error = %e, "deleting a topic failed");
                    }
                }
                match std::fs::remove_dir_all(&dir) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        tracing::warn!(cluster = %name, error = %e, "removing the cluster's files failed")
                    }
                    _ => {}
                }
            });
            let _ = removed.await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(cleanup);
            }
            Err(_) => tracing::warn!(cluster = %id, "no runtime to remove the cluster's topics"),
        }
    }
}
