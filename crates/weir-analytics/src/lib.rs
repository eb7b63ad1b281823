//! Weir's Kinesis Data Analytics control plane: SQL applications and their configuration
//! (inputs, outputs, reference data, logging options, code), versions, statuses and tags,
//! kept durable in `<data>/analytics`. The SQL runs in a [`Runner`] (the streaming engine).
//! Both API versions (`kinesisanalytics` and `kinesisanalyticsv2`) share this one store.

mod discover;
mod error;
pub mod model;
mod runner;
pub mod update;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use weir_catalog::store::{Durable, Journaled};

pub use discover::{discover, Discovered};
pub use error::{AnalyticsError, Result};
pub use model::{Application, StartingPosition, Status};
pub use runner::{Pending, Refusal, Runner};
pub use update::Change;

/// Applications per region (AWS's default quota).
pub const MAX_APPLICATIONS: usize = 50;
/// Streaming sources of one application.
pub const MAX_INPUTS: usize = 1;
/// Destinations of one application.
pub const MAX_OUTPUTS: usize = 3;
/// Reference data sources of one application.
pub const MAX_REFERENCES: usize = 1;
/// User tags of one application.
pub const MAX_TAGS: usize = 50;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// region → name → application.
    apps: BTreeMap<String, BTreeMap<String, Application>>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Op {
    Put(Box<Application>),
    Remove(String, String),
}

impl Journaled for State {
    type Op = Op;

    fn apply(&mut self, op: Op) {
        match op {
            Op::Put(a) => {
                self.apps
                    .entry(a.region.clone())
                    .or_default()
                    .insert(a.name.clone(), *a);
            }
            Op::Remove(region, name) => {
                if let Some(m) = self.apps.get_mut(&region) {
                    m.remove(&name);
                }
            }
        }
    }
}

/// What CreateApplication gives.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub name: String,
    pub description: Option<String>,
    pub code: Option<String>,
    pub runtime: String,
    pub service_role: Option<String>,
    pub inputs: Vec<model::Input>,
    pub outputs: Vec<model::Output>,
    pub references: Vec<model::Reference>,
    pub logging: Vec<model::LoggingOption>,
    pub tags: Vec<(String, String)>,
}

/// The control plane (cheap to clone).
#[derive(Clone)]
pub struct Analytics {
    journal: Arc<Mutex<Durable<State>>>,
    runner: Option<Arc<dyn Runner>>,
    account: String,
}

/// The wall clock, in epoch milliseconds.
fn now_ms() -> i64 {
    weir_log::Clock::now_ms(&weir_log::SystemClock)
}

fn not_found(name: &str) -> AnalyticsError {
    AnalyticsError::NotFound(format!("Application {name} is not found."))
}

/// A copy of application `name` of `region`.
fn lookup(state: &State, region: &str, name: &str) -> Result<Application> {
    state
        .apps
        .get(region)
        .and_then(|m| m.get(name))
        .cloned()
        .ok_or_else(|| not_found(name))
}

/// Whether `app` can start with these positions: READY, with an input, code, and positions
/// for its own inputs.
fn startable(app: &Application, positions: &[(String, StartingPosition)]) -> Result<()> {
    if app.status != Status::Ready {
        return Err(in_use(&app.name, app.status));
    }
    if app.inputs.is_empty() {
        return Err(AnalyticsError::InvalidConfiguration(
            "The application has no streaming source.".into(),
        ));
    }
    if app.code.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(AnalyticsError::InvalidConfiguration(
            "The application has no code.".into(),
        ));
    }
    for (id, _) in positions {
        if !app.inputs.iter().any(|i| &i.input_id == id) {
            return Err(AnalyticsError::InvalidArgument(format!(
                "Input id {id} is not found."
            )));
        }
    }
    Ok(())
}

fn in_use(name: &str, status: Status) -> AnalyticsError {
    AnalyticsError::InUse(format!(
        "Application {name} is not available for this operation: its status is {}.",
        status.as_str()
    ))
}

impl Analytics {
    /// Opens the applications kept in `dir`. Applications caught between two statuses by a
    /// stop of Weir settle: a start or an update under way is running (the engine resumes
    /// its job), a stop under way is stopped, a delete under way is finished.
    pub fn open(
        dir: &Path,
        account: &str,
        runner: Option<Arc<dyn Runner>>,
    ) -> std::io::Result<Analytics> {
        let mut journal: Durable<State> = Durable::open(dir, "analytics applications")?;
        let settle: Vec<Op> = journal
            .state()
            .apps
            .values()
            .flat_map(|m| m.values())
            .filter_map(|a| {
                let mut a = a.clone();
                a.status = match a.status {
                    Status::Starting | Status::Updating if a.job.is_some() => Status::Running,
                    Status::Starting | Status::Updating | Status::Stopping => Status::Ready,
                    Status::Deleting => return Some(Op::Remove(a.region, a.name)),
                    _ => return None,
                };
                Some(Op::Put(Box::new(a)))
            })
            .collect();
        for op in settle {
            journal.commit(op)?;
        }
        Ok(Analytics {
            journal: Arc::new(Mutex::new(journal)),
            runner,
            account: account.to_string(),
        })
    }

    pub fn arn(&self, region: &str, name: &str) -> String {
        format!(
            "arn:aws:kinesisanalytics:{region}:{}:application/{name}",
            self.account
        )
    }

    pub fn create(&self, region: &str, new: NewApplication) -> Result<Application> {
        let tags: BTreeMap<String, String> = new.tags.into_iter().collect();
        let now = now_ms();
        let mut app = Application {
            region: region.to_string(),
            arn: self.arn(region, &new.name),
            name: new.name,
            description: new.description,
            code: new.code,
            status: Status::Ready,
            runtime: new.runtime,
            service_role: new.service_role,
            version: 1,
            created_ms: now,
            updated_ms: now,
            inputs: new.inputs,
            outputs: new.outputs,
            references: new.references,
            logging: new.logging,
            tags,
            job: None,
            last_job: None,
        };
        update::give_ids(&mut app);
        update::check(&app)?;
        if app.tags.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        self.check_code(&app)?;
        let mut j = self.journal.lock();
        let apps = j.state().apps.get(region);
        if apps.is_some_and(|m| m.contains_key(&app.name)) {
            return Err(AnalyticsError::InUse(format!(
                "Application {} already exists.",
                app.name
            )));
        }
        if apps.map_or(0, BTreeMap::len) >= MAX_APPLICATIONS {
            return Err(AnalyticsError::LimitExceeded(
                "Exceeded the number of applications allowed.".into(),
            ));
        }
        j.commit(Op::Put(Box::new(app.clone())))?;
        Ok(app)
    }

    pub fn describe(&self, region: &str, name: &str) -> Result<Application> {
        lookup(self.journal.lock().state(), region, name)
    }

    /// Applications in name order after `after`, at most `limit`; whether more follow.
    pub fn list(
        &self,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<Application>, bool) {
        let j = self.journal.lock();
        let Some(m) = j.state().apps.get(region) else {
            return (Vec::new(), false);
        };
        let mut rest = m
            .values()
            .filter(|a| after.is_none_or(|s| a.name.as_str() > s));
        let page: Vec<Application> = rest.by_ref().take(limit).cloned().collect();
        (page, rest.next().is_some())
    }

    /// Applies a configuration change to version `expected` of the application, which
    /// becomes the next version. A running application is restarted on the new version from
    /// where it stopped.
    pub async fn change(
        &self,
        region: &str,
        name: &str,
        expected: Option<u64>,
        change: Change,
    ) -> Result<Application> {
        let (app, was_running) = {
            let mut j = self.journal.lock();
            let mut app = lookup(j.state(), region, name)?;
            if let Some(v) = expected {
                if v != app.version {
                    return Err(AnalyticsError::ConcurrentModification(format!(
                        "Current application version is {}; the request gives {v}.",
                        app.version
                    )));
                }
            }
            if !matches!(app.status, Status::Ready | Status::Running) {
                return Err(in_use(name, app.status));
            }
            app.version += 1;
            update::apply(&mut app, change)?;
            update::check(&app)?;
            self.check_code(&app)?;
            app.updated_ms = now_ms();
            let was_running = app.status == Status::Running;
            if was_running {
                app.status = Status::Updating;
            }
            j.commit(Op::Put(Box::new(app.clone())))?;
            (app, was_running)
        };
        if was_running {
            self.restart(app.clone());
        }
        Ok(app)
    }

    fn check_code(&self, app: &Application) -> Result<()> {
        match (&self.runner, app.code.as_deref()) {
            (Some(r), Some(code)) if !code.trim().is_empty() => {
                r.check(app).map_err(AnalyticsError::CodeValidation)
            }
            _ => Ok(()),
        }
    }

    fn runner(&self) -> Result<Arc<dyn Runner>> {
        self.runner.clone().ok_or_else(|| {
            AnalyticsError::Unsupported("This Weir runs no streaming engine.".into())
        })
    }

    /// Starts a READY application: each input from its position (input id → position).
    /// The runner plans it first: what it cannot run is refused here, not after.
    pub async fn start(
        &self,
        region: &str,
        name: &str,
        positions: &[(String, StartingPosition)],
    ) -> Result<()> {
        let runner = self.runner()?;
        // Checked and planned before the lock; started only if it is still what was planned.
        let planned = self.describe(region, name)?;
        startable(&planned, positions)?;
        runner
            .check(&planned)
            .map_err(AnalyticsError::CodeValidation)?;
        runner.runnable(&planned).await.map_err(|r| match r {
            Refusal::Unsupported(m) => AnalyticsError::Unsupported(m),
            Refusal::Invalid(m) => AnalyticsError::InvalidConfiguration(m),
        })?;
        let (app, resume) = {
            let mut j = self.journal.lock();
            let mut app = lookup(j.state(), region, name)?;
            if app.status != Status::Ready {
                return Err(in_use(name, app.status));
            }
            if app.version != planned.version {
                return Err(AnalyticsError::ConcurrentModification(format!(
                    "Application {name} changed while it was being started."
                )));
            }
            let mut resume = false;
            for input in &mut app.inputs {
                let at = positions
                    .iter()
                    .find(|(id, _)| *id == input.input_id)
                    .map_or(StartingPosition::Now, |(_, p)| *p);
                resume |= at == StartingPosition::LastStoppedPoint && app.last_job.is_some();
                input.starting_position = Some(at.as_str().to_string());
            }
            let job = match (resume, &app.last_job) {
                (true, Some(last)) => last.clone(),
                _ => format!("kda-{}-{}", app.name, now_ms()),
            };
            app.job = Some(job);
            app.status = Status::Starting;
            j.commit(Op::Put(Box::new(app.clone())))?;
            (app, resume)
        };
        let this = self.clone();
        tokio::spawn(async move {
            let job = app.job.clone().unwrap_or_default();
            let ok = runner.start(&app, &job, resume).await;
            this.settle(&app.region, &app.name, Status::Starting, |a| match ok {
                Ok(()) => a.status = Status::Running,
                Err(e) => {
                    tracing::error!(app = %a.name, error = %e, "application did not start");
                    a.status = Status::Ready;
                    a.job = None;
                }
            });
        });
        Ok(())
    }

    /// Stops a RUNNING application; it keeps where it stopped for LAST_STOPPED_POINT.
    pub fn stop(&self, region: &str, name: &str) -> Result<()> {
        let app = self.transition(region, name, &[Status::Running], Status::Stopping, |_| {
            Ok(())
        })?;
        let (this, runner) = (self.clone(), self.runner.clone());
        let (region, name) = (region.to_string(), name.to_string());
        tokio::spawn(async move {
            if let (Some(r), Some(job)) = (runner, app.job.clone()) {
                if let Err(e) = r.stop(&job).await {
                    tracing::error!(app = %name, error = %e, "application did not stop cleanly");
                }
            }
            this.settle(&region, &name, Status::Stopping, |a| {
                a.status = Status::Ready;
                a.last_job = a.job.take().or(a.last_job.take());
            });
        });
        Ok(())
    }

    /// Deletes an application (stopping it first); `created_ms` must be its creation time.
    pub fn delete(&self, region: &str, name: &str, created_ms: i64) -> Result<()> {
        let allowed = [Status::Ready, Status::Running];
        let app = self.transition(region, name, &allowed, Status::Deleting, |app| {
            // Timestamps travel as seconds (with fractions): a second's difference is the same.
            if (app.created_ms - created_ms).abs() >= 1000 {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "CreateTimestamp does not match application {name}'s creation time."
                )));
            }
            Ok(())
        })?;
        let (this, runner) = (self.clone(), self.runner.clone());
        let (region, name) = (region.to_string(), name.to_string());
        tokio::spawn(async move {
            if let Some(r) = runner {
                if let Some(job) = &app.job {
                    if let Err(e) = r.stop(job).await {
                        tracing::error!(app = %name, error = %e, "deleted application did not stop cleanly");
                    }
                }
                for job in app.job.iter().chain(&app.last_job) {
                    r.discard(job);
                }
            }
            if let Err(e) = this.journal.lock().commit(Op::Remove(region, name)) {
                tracing::error!(error = %e, "application delete not stored");
            }
        });
        Ok(())
    }

    /// Restarts a running application on its new version, from where its job stopped.
    fn restart(&self, app: Application) {
        let (this, runner) = (self.clone(), self.runner.clone());
        tokio::spawn(async move {
            let outcome = match (runner, app.job.clone()) {
                (Some(r), Some(job)) => match r.stop(&job).await {
                    Ok(()) => r.start(&app, &job, true).await,
                    Err(e) => Err(e),
                },
                _ => Ok(()),
            };
            this.settle(&app.region, &app.name, Status::Updating, |a| match outcome {
                Ok(()) => a.status = Status::Running,
                Err(e) => {
                    tracing::error!(app = %a.name, error = %e, "updated application did not restart");
                    a.status = Status::Ready;
                    a.last_job = a.job.take();
                }
            });
        });
    }

    fn set(&self, region: &str, name: &str, f: impl FnOnce(&mut Application)) -> Result<()> {
        let mut j = self.journal.lock();
        let mut app = lookup(j.state(), region, name)?;
        f(&mut app);
        j.commit(Op::Put(Box::new(app)))?;
        Ok(())
    }

    /// Ends a transition: applies `f` if the application is still in status `from`.
    /// Moves an application from one of `from` to `to` in one step (after `check`), so two
    /// calls cannot both see the old status; returns it as it was.
    fn transition(
        &self,
        region: &str,
        name: &str,
        from: &[Status],
        to: Status,
        check: impl FnOnce(&Application) -> Result<()>,
    ) -> Result<Application> {
        let mut j = self.journal.lock();
        let mut app = lookup(j.state(), region, name)?;
        check(&app)?;
        if !from.contains(&app.status) {
            return Err(in_use(name, app.status));
        }
        let before = app.clone();
        app.status = to;
        j.commit(Op::Put(Box::new(app)))?;
        Ok(before)
    }

    fn settle(&self, region: &str, name: &str, from: Status, f: impl FnOnce(&mut Application)) {
        let r = self.set(region, name, |a| {
            if a.status == from {
                f(a);
            }
        });
        if let Err(e) = r {
            tracing::error!(app = %name, error = %e, "application status not stored");
        }
    }

    /// The application an ARN names.
    fn by_arn(&self, arn: &str) -> Result<Application> {
        let not_found = || AnalyticsError::NotFound(format!("Resource {arn} is not found."));
        let rest = arn
            .strip_prefix("arn:aws:kinesisanalytics:")
            .ok_or_else(not_found)?;
        let mut parts = rest.splitn(3, ':');
        let (Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(not_found());
        };
        let name = resource
            .strip_prefix("application/")
            .ok_or_else(not_found)?;
        if account != self.account {
            return Err(not_found());
        }
        self.describe(region, name).map_err(|_| not_found())
    }

    pub fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.by_arn(arn)?.tags)
    }

    pub fn tag(&self, arn: &str, tags: Vec<(String, String)>) -> Result<()> {
        let app = self.by_arn(arn)?;
        let mut all = app.tags.clone();
        all.extend(tags);
        if all.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        self.set(&app.region, &app.name, |a| a.tags = all)
    }

    pub fn untag(&self, arn: &str, keys: &[String]) -> Result<()> {
        let app = self.by_arn(arn)?;
        self.set(&app.region, &app.name, |a| {
            a.tags.retain(|k, _| !keys.contains(k));
        })
    }
}

fn too_many_tags() -> AnalyticsError {
    AnalyticsError::TooManyTags(format!(
        "Application can't have more than {MAX_TAGS} user-defined tags."
    ))
}
