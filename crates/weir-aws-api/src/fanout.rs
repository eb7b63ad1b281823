//! Enhanced fan-out state of the front door: which (consumer, shard) pairs are subscribed now.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::ApiError;

pub struct FanOut {
    active: Mutex<HashSet<(String, String)>>,
    /// How long one SubscribeToShard call streams (AWS: 5 minutes).
    pub lifetime: Duration,
    /// An event is sent at least this often, records or not.
    pub heartbeat: Duration,
}

/// Holds a (consumer, shard) subscription; dropping it ends the hold.
pub struct Lease {
    fanout: Arc<FanOut>,
    key: (String, String),
}

impl FanOut {
    pub fn new(lifetime: Duration, heartbeat: Duration) -> FanOut {
        FanOut {
            active: Mutex::new(HashSet::new()),
            lifetime,
            heartbeat,
        }
    }

    /// Takes the (consumer, shard) pair, or AWS's error when another subscription holds it.
    pub fn lease(self: &Arc<Self>, consumer_arn: &str, shard: &str) -> Result<Lease, ApiError> {
        let key = (consumer_arn.to_string(), shard.to_string());
        let mut active = self
            .active
            .lock()
            .map_err(|_| ApiError::internal("fan-out state poisoned"))?;
        if !active.insert(key.clone()) {
            return Err(ApiError::new(
                "ResourceInUseException",
                400,
                format!("Another active subscription exists for consumer {consumer_arn} and shard {shard}."),
            ));
        }
        Ok(Lease {
            fanout: self.clone(),
            key,
        })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut active) = self.fanout.active.lock() {
            active.remove(&self.key);
        }
    }
}
