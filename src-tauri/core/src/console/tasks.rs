//! Long work the core runs for adapters — live watches, log follows, streamed
//! operations — each with an id the core assigns, so an adapter can stop one, and the
//! console can stop them all when it closes (nothing it started is left on a host).
//! A request an adapter names (its own id for "run this") runs once however often it
//! arrives: a reloaded window or a retried IPC call cannot run a change twice.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::ssh::CancellationToken;

pub type TaskId = u32;

/// How many request names are remembered to refuse repeats.
const REMEMBERED_REQUESTS: usize = 1000;

#[derive(Default)]
pub struct Tasks {
    registry: Arc<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: AtomicU32,
    running: Mutex<HashMap<TaskId, Running>>,
    requests: Mutex<VecDeque<String>>,
}

struct Running {
    what: String,
    /// The adapter's name for the request that started it, if it named one.
    request: Option<String>,
    cancel: CancellationToken,
}

/// A task's place in [`Tasks`]; it leaves when dropped, however the task ended.
pub struct TaskHandle {
    registry: Arc<Registry>,
    pub id: TaskId,
    pub cancel: CancellationToken,
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.registry.running.lock().unwrap().remove(&self.id);
    }
}

impl Tasks {
    /// Registers a task described as `what` (for diagnostics).
    pub fn start(&self, what: impl Into<String>) -> TaskHandle {
        self.register(what.into(), None)
    }

    fn register(&self, what: String, request: Option<String>) -> TaskHandle {
        let id = self.registry.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let cancel = CancellationToken::new();
        tracing::debug!(task = id, %what, "task started");
        self.registry.running.lock().unwrap().insert(
            id,
            Running {
                what,
                request,
                cancel: cancel.clone(),
            },
        );
        TaskHandle {
            registry: self.registry.clone(),
            id,
            cancel,
        }
    }

    /// [`Tasks::start`] for a request the adapter named: refused if that name was seen.
    pub fn start_once(&self, request: &str, what: impl Into<String>) -> Result<TaskHandle> {
        check_request(request)?;
        let mut seen = self.registry.requests.lock().unwrap();
        if seen.iter().any(|r| r == request) {
            return Err(Error::BadInput(format!(
                "The request {} was already run; it is not run twice. See the History screen for its result.",
                crate::input::shown(request)
            )));
        }
        if seen.len() == REMEMBERED_REQUESTS {
            seen.pop_front();
        }
        seen.push_back(request.to_string());
        drop(seen);
        Ok(self.register(what.into(), Some(request.to_string())))
    }

    /// Stops the task started for the request the adapter named `request`; one that
    /// has ended (or never ran) is no error, a name no adapter would make is.
    pub fn cancel_request(&self, request: &str) -> Result<bool> {
        check_request(request)?;
        let running = self.registry.running.lock().unwrap();
        let found = running
            .values()
            .find(|task| task.request.as_deref() == Some(request));
        if let Some(task) = found {
            tracing::debug!(request, what = %task.what, "task cancelled");
            task.cancel.cancel();
        }
        Ok(found.is_some())
    }

    /// Stops the task `id`; false if no such task runs.
    pub fn cancel(&self, id: TaskId) -> bool {
        match self.registry.running.lock().unwrap().get(&id) {
            Some(task) => {
                tracing::debug!(task = id, what = %task.what, "task cancelled");
                task.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every task no request named (the live watches, the log follows, the
    /// settings watch): the window that asked for them reloaded, and nobody can stop
    /// them now (their ids went with the page; their channels still take what they
    /// send). Each held a channel of its host's connection and a process on the host.
    /// A named request (an operation, a deploy) goes on: its end is in the history.
    pub fn cancel_streams(&self) {
        for (id, task) in self.registry.running.lock().unwrap().iter() {
            if task.request.is_none() {
                tracing::debug!(task = id, what = %task.what, "task cancelled: its window reloaded");
                task.cancel.cancel();
            }
        }
    }

    /// Stops every task: the console is closing.
    pub fn cancel_all(&self) {
        for (id, task) in self.registry.running.lock().unwrap().iter() {
            tracing::debug!(task = id, what = %task.what, "task cancelled at shutdown");
            task.cancel.cancel();
        }
    }

    pub fn running(&self) -> usize {
        self.registry.running.lock().unwrap().len()
    }
}

/// A request's name as an adapter makes one (the UI's `r7`): short plain text.
fn check_request(request: &str) -> Result<()> {
    let plain = (1..=64).contains(&request.len()) && request.bytes().all(|b| b.is_ascii_graphic());
    match plain {
        true => Ok(()),
        false => Err(Error::BadInput(format!(
            "{} is not a request's name: the console names each run it starts.",
            crate::input::shown(request)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_request_runs_once_and_tasks_leave_when_done() {
        let tasks = Tasks::default();
        let first = tasks.start_once("req-1", "restart").unwrap();
        assert!(tasks.start_once("req-1", "restart").is_err());
        assert_eq!(tasks.running(), 1);
        assert!(tasks.cancel(first.id));
        assert!(first.cancel.is_cancelled());
        drop(first);
        assert_eq!(tasks.running(), 0);
        assert!(
            tasks.start_once("req-1", "restart").is_err(),
            "still refused later"
        );
        let other = tasks.start("watch");
        tasks.cancel_all();
        assert!(other.cancel.is_cancelled());
    }

    #[test]
    fn a_reloaded_window_stops_its_streams_but_not_its_requests() {
        let tasks = Tasks::default();
        let follow = tasks.start("logs of db on prod");
        let deploy = tasks.start_once("r1", "deploy prod").unwrap();
        tasks.cancel_streams();
        assert!(follow.cancel.is_cancelled());
        assert!(!deploy.cancel.is_cancelled());
    }
}
