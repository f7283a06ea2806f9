//! Closing the window while a deploy or rollback runs. The console's exit closes the
//! run's connection, and the host's supervisor then ends the step under way: a compose
//! `up` halfway through recreating containers, a migration halfway through. So the close
//! is held and the page asked (on the channel it gave), with the targets it would cut
//! short; it closes for real only by answering with those very targets. A page that
//! never asked, or is gone, holds nothing: the window closes when nobody can be asked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tauri::ipc::Channel;

#[derive(Default)]
pub struct CloseGuard {
    asker: Mutex<Option<Channel<Vec<String>>>>,
    /// The targets of the newest ask.
    asked: Mutex<Vec<String>>,
    let_go: AtomicBool,
}

impl CloseGuard {
    /// The page that is asked from now on.
    pub fn ask_through(&self, channel: Channel<Vec<String>>) {
        *self.asker.lock().expect("close asker") = Some(channel);
    }

    /// A page (re)loading: its old channel leads nowhere.
    pub fn forget_asker(&self) {
        *self.asker.lock().expect("close asker") = None;
    }

    /// Whether a close request waits, having asked the page: only while `running` names
    /// a target, and only if the page can be asked.
    pub fn holds(&self, running: Vec<String>) -> bool {
        if running.is_empty() || self.let_go.load(Ordering::SeqCst) {
            return false;
        }
        let asker = self.asker.lock().expect("close asker");
        let Some(channel) = asker.as_ref() else {
            return false;
        };
        *self.asked.lock().expect("close asked") = running.clone();
        channel.send(running).is_ok()
    }

    /// The page's answer: close after all, cutting short the runs on `targets`, which
    /// must be those it was asked about last. False for anything else.
    pub fn let_go(&self, targets: &[String]) -> bool {
        let asked = self.asked.lock().expect("close asked");
        if asked.is_empty() || asked.as_slice() != targets {
            return false;
        }
        self.let_go.store(true, Ordering::SeqCst);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn nothing_is_held_without_a_run_or_a_page_to_ask() {
        let guard = CloseGuard::default();
        assert!(!guard.holds(names(&["prod"])), "no page to ask");
        assert!(!guard.holds(Vec::new()));
        assert!(!guard.let_go(&[]), "nothing was asked");
        assert!(!guard.let_go(&names(&["prod"])), "nothing was asked");
    }

    #[test]
    fn a_close_is_held_once_asked_and_let_go_only_by_the_newest_ask() {
        let guard = CloseGuard::default();
        let asked = Arc::new(Mutex::new(0));
        let seen = asked.clone();
        guard.ask_through(Channel::new(move |_| {
            *seen.lock().unwrap() += 1;
            Ok(())
        }));
        assert!(guard.holds(names(&["prod"])));
        assert!(guard.holds(names(&["prod", "staging"])));
        assert_eq!(*asked.lock().unwrap(), 2);
        assert!(!guard.let_go(&names(&["prod"])), "an older ask's answer");
        assert!(guard.holds(names(&["prod"])), "still held");
        assert!(guard.let_go(&names(&["prod"])));
        assert!(!guard.holds(names(&["prod"])), "let go");
        guard.forget_asker();
    }

    #[test]
    fn a_page_gone_holds_nothing() {
        let guard = CloseGuard::default();
        guard.ask_through(Channel::new(|_| Ok(())));
        guard.forget_asker();
        assert!(!guard.holds(names(&["prod"])));
    }
}
