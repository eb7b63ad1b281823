//! What runs an application's SQL: the streaming engine (weir-stream) implements [`Runner`],
//! so this crate stays free of it.

use std::future::Future;
use std::pin::Pin;

use crate::model::Application;

/// A boxed future of a runner's answer (an error's text when it fails).
pub type Pending<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Why a runner will not run a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Something the runner cannot run yet (UnsupportedOperationException).
    Unsupported(String),
    /// The configuration and code do not fit together, e.g. a column the input lacks
    /// (InvalidApplicationConfigurationException).
    Invalid(String),
}

pub trait Runner: Send + Sync + 'static {
    /// Checks the application's code against its configuration: `Err` holds the text of a
    /// CodeValidationException.
    fn check(&self, app: &Application) -> Result<(), String>;

    /// Checks that the runner can run the whole configuration (inputs, outputs, reference
    /// data) with the code, planning it without starting it.
    fn runnable(
        &self,
        app: &Application,
    ) -> Pin<Box<dyn Future<Output = Result<(), Refusal>> + Send>>;

    /// Starts the application as engine job `job`; `resume` continues where that job last
    /// stopped (LAST_STOPPED_POINT), otherwise each input starts at its position.
    fn start(&self, app: &Application, job: &str, resume: bool) -> Pending<()>;

    /// Stops job `job`, keeping where it stopped.
    fn stop(&self, job: &str) -> Pending<()>;

    /// Forgets a stopped job of a deleted application (what it kept to resume).
    fn discard(&self, job: &str);
}
