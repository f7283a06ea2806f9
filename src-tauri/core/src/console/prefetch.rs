//! The first target's services, read while the window is still starting. WebKit takes
//! most of a second to load the page, and connecting and `compose ps` about as long
//! again: side by side, the dashboard has its services as soon as it can draw them. Only
//! a read, of the target the window shows first, taken by the window's first ask for
//! it; one older than [`FRESH_FOR`] is dropped and the window reads afresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::Console;
use crate::error::Result;
use crate::operations::StatusReport;

/// How long a read made at start stands for the window's first ask.
const FRESH_FOR: Duration = Duration::from_secs(10);

pub(super) struct Prefetch {
    target: String,
    started: Instant,
    read: JoinHandle<Result<StatusReport>>,
}

impl Prefetch {
    pub(super) fn abort(self) {
        self.read.abort();
    }
}

impl Console {
    /// Starts reading the first target's services (the one the window selects first),
    /// if there is one and its host key is pinned: a host not yet trusted is contacted
    /// only when the operator asks. Call inside a Tokio runtime.
    pub fn prefetch_first_status(self: &Arc<Self>) {
        let Some(first) = self.targets().ok().and_then(|t| t.into_iter().next()) else {
            return;
        };
        if first.host_key.is_none() {
            return;
        }
        let target = first.target.name;
        let console = self.clone();
        let name = target.clone();
        let read = tokio::spawn(async move { console.status(&name, true).await });
        let started = Instant::now();
        *self.prefetch.lock().unwrap() = Some(Prefetch {
            target,
            started,
            read,
        });
    }

    /// The read made at start for `target`, if it is fresh; taken once.
    pub(super) async fn prefetched_status(&self, target: &str) -> Option<Result<StatusReport>> {
        let prefetch = {
            let mut slot = self.prefetch.lock().unwrap();
            match slot.as_ref() {
                Some(p) if p.target == target => slot.take(),
                _ => None,
            }
        }?;
        if prefetch.started.elapsed() > FRESH_FOR {
            prefetch.read.abort();
            return None;
        }
        prefetch.read.await.ok()
    }
}
