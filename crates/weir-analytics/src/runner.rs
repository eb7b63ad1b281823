//! What runs an application's SQL: the streaming engine (weir-stream) implements [`Runner`],
//! so this crate stays free of it.

use std::future::Future;
use std::pin::Pin;

use crate::model::Application;

/// A boxed future of a runner's answer (an error's text when it fails).
pub type Pending<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

pub trait Runner: Send + Sync + 'static {
    /// Checks the application's code against its configuration: `Err` holds the text of a
    /// CodeValidationException.
    fn check(&self, app: &Application) -> Result<(), String>;

    /// Checks that the runner can run the whole configuration (inputs, outputs, reference
    /// data) as it stands: `Err` holds the text of an UnsupportedOperationException.
    fn runnable(&self, app: &Application) -> Result<(), String>;

    /// Starts the application as engine job `job`; `resume` continues where that job last
    /// stopped (LAST_STOPPED_POINT), otherwise each input starts at its position.
    fn start(&self, app: &Application, job: &str, resume: bool) -> Pending<()>;

    /// Stops job `job`, keeping where it stopped.
    fn stop(&self, job: &str) -> Pending<()>;

    /// Forgets a stopped job of a deleted application (what it kept to resume).
    fn discard(&self, job: &str);
}
