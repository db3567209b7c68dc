//! What each transport last did, for `/readyz`: a transport that keeps
//! failing shows here before anyone misses a message.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Channel;

/// One channel's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TransportState {
    pub configured: bool,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The transport's reason (never an address).
    pub last_failure: Option<String>,
}

/// Shared by the dispatcher (which writes) and the readiness check.
#[derive(Debug, Default)]
pub struct TransportHealth {
    channels: Mutex<BTreeMap<Channel, TransportState>>,
}

impl TransportHealth {
    /// Starts with the channels a transport is configured for.
    pub fn new(configured: &[Channel]) -> Self {
        let channels = Channel::ALL
            .into_iter()
            .map(|channel| {
                let state = TransportState {
                    configured: configured.contains(&channel),
                    ..TransportState::default()
                };
                (channel, state)
            })
            .collect();
        TransportHealth {
            channels: Mutex::new(channels),
        }
    }

    pub(crate) fn delivered(&self, channel: Channel, at: DateTime<Utc>) {
        if let Ok(mut channels) = self.channels.lock() {
            channels.entry(channel).or_default().last_delivered_at = Some(at);
        }
    }

    pub(crate) fn failed(&self, channel: Channel, at: DateTime<Utc>, reason: &str) {
        if let Ok(mut channels) = self.channels.lock() {
            let state = channels.entry(channel).or_default();
            state.last_failure_at = Some(at);
            state.last_failure = Some(reason.to_owned());
        }
    }

    pub fn snapshot(&self) -> BTreeMap<Channel, TransportState> {
        self.channels
            .lock()
            .map(|channels| channels.clone())
            .unwrap_or_default()
    }
}
