//! Closing the window while a deploy or rollback runs. The console's exit closes the
//! run's connection, and the host's supervisor then ends the step under way: a compose
//! `up` halfway through recreating containers, a migration halfway through. So the close
//! is held and the page asked (on the channel it gave), with the targets it would cut
//! short; it closes for real only by answering with those very targets. A page that
//! never asked, or is gone, holds nothing: the window closes when nobody can be asked.
//!
//! A page can also be there and not answer: its scripts hung, or WebKit's web process
//! died (the channel still takes messages; nothing reads them). The page says when it
//! shows the question; a close asked again once an earlier ask has gone unseen for
//! [`UNSEEN_AFTER`] is asked in a dialog of the desktop's own instead, which needs no
//! page, so the window can always be closed, and never without a warning.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tauri::ipc::Channel;
use tauri::{Manager, Window};

/// How long a page has to show the question before it counts as not answering: a live
/// page shows it within milliseconds.
pub const UNSEEN_AFTER: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct CloseGuard {
    asker: Mutex<Option<Channel<Vec<String>>>>,
    /// The newest ask.
    asked: Mutex<Option<Ask>>,
    let_go: AtomicBool,
    /// The desktop's dialog is up: a close meanwhile asks nothing more.
    asking_natively: AtomicBool,
}

struct Ask {
    targets: Vec<String>,
    /// When the page was first asked and has not shown the question since.
    sent_at: Instant,
    seen: bool,
}

/// What a close request comes to while runs may be going on.
#[derive(Debug, PartialEq, Eq)]
pub enum Hold {
    /// Nothing to cut short, or nobody to ask: the window closes.
    Close,
    /// Held: the page asks.
    Asked,
    /// Held: the page has not shown an earlier ask; the desktop's dialog must ask about
    /// these targets (or is already asking).
    PageSilent(Vec<String>),
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

    /// Whether a close request waits, and who asks: only while `running` names a
    /// target, and only if the page can be asked.
    pub fn holds(&self, running: Vec<String>) -> Hold {
        if running.is_empty() || self.let_go.load(Ordering::SeqCst) {
            return Hold::Close;
        }
        let asker = self.asker.lock().expect("close asker");
        let Some(channel) = asker.as_ref() else {
            return Hold::Close;
        };
        let mut asked = self.asked.lock().expect("close asked");
        let unseen_since = asked.as_ref().filter(|a| !a.seen).map(|a| a.sent_at);
        if unseen_since.is_some_and(|since| since.elapsed() >= UNSEEN_AFTER)
            || self.asking_natively.load(Ordering::SeqCst)
        {
            return Hold::PageSilent(running);
        }
        *asked = Some(Ask {
            targets: running.clone(),
            sent_at: unseen_since.unwrap_or_else(Instant::now),
            seen: false,
        });
        match channel.send(running) {
            Ok(()) => Hold::Asked,
            Err(_) => Hold::Close,
        }
    }

    /// The page shows the question about `targets`, which must be those of the newest
    /// ask. False for anything else.
    pub fn seen(&self, targets: &[String]) -> bool {
        let mut asked = self.asked.lock().expect("close asked");
        let Some(ask) = asked.as_mut().filter(|a| a.targets == targets) else {
            return false;
        };
        ask.seen = true;
        true
    }

    /// The page's answer: close after all, cutting short the runs on `targets`, which
    /// must be those it was asked about last. False for anything else.
    pub fn let_go(&self, targets: &[String]) -> bool {
        let asked = self.asked.lock().expect("close asked");
        if asked.as_ref().is_none_or(|a| a.targets != targets) {
            return false;
        }
        self.let_go.store(true, Ordering::SeqCst);
        true
    }
}

const NOT_RESPONDING: &str = "Shipshape is not responding";
const KEEP: &str = "Keep the window";
const CLOSE: &str = "Close and cut it short";

/// Asks in the desktop's own dialog whether to close `window` though runs on `targets`
/// would be cut short: what the page would have asked, for a page that does not answer.
pub fn ask_natively(window: &Window, targets: Vec<String>) {
    let guard = &window.state::<crate::AppState>().close_guard;
    if guard.asking_natively.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::warn!("close asked again, the page never showed the first ask: the desktop asks");
    let message = format!(
        "The window does not answer, and a deploy or rollback is running on {}.\n\n\
         Closing now ends its connection: the host stops the step under way (a compose \
         update or a migration cut halfway). If you can, wait for the run to end.",
        targets.join(", ")
    );
    let closing = window.clone();
    desktop_asks(window, &message, move |close| {
        let guard = &closing.state::<crate::AppState>().close_guard;
        guard.asking_natively.store(false, Ordering::SeqCst);
        if close {
            tracing::warn!("closing during a run: the desktop's dialog was answered so");
            guard.let_go.store(true, Ordering::SeqCst);
            let _ = closing.close();
        }
    });
}

/// On Linux, straight from GTK: "Keep the window" is the default, Enter's answer as well
/// as Escape's, which the dialog plugin's custom buttons cannot make it (its first
/// button, Enter's, is its "OK").
#[cfg(target_os = "linux")]
fn desktop_asks(window: &Window, message: &str, answered: impl FnOnce(bool) + 'static) {
    use gtk::prelude::*;
    use gtk::{ButtonsType, DialogFlags, MessageDialog, MessageType, ResponseType};
    let parent = window.gtk_window().ok();
    let dialog = MessageDialog::new(
        parent.as_ref(),
        DialogFlags::MODAL | DialogFlags::DESTROY_WITH_PARENT,
        MessageType::Warning,
        ButtonsType::None,
        NOT_RESPONDING,
    );
    dialog.set_title(NOT_RESPONDING);
    dialog.set_secondary_text(Some(message));
    dialog.add_button(KEEP, ResponseType::Cancel);
    dialog.add_button(CLOSE, ResponseType::Accept);
    dialog.set_default_response(ResponseType::Cancel);
    let answered = std::cell::Cell::new(Some(answered));
    dialog.connect_response(move |dialog, response| {
        dialog.close();
        if let Some(answered) = answered.take() {
            answered(response == ResponseType::Accept);
        }
    });
    dialog.show_all();
}

#[cfg(not(target_os = "linux"))]
fn desktop_asks(window: &Window, message: &str, answered: impl FnOnce(bool) + Send + 'static) {
    window
        .dialog()
        .message(message)
        .title(NOT_RESPONDING)
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom(
            CLOSE.into(),
            KEEP.into(),
        ))
        .parent(window)
        .show(answered);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    /// A guard asking through a channel that counts what it is sent.
    fn asking() -> (CloseGuard, Arc<Mutex<usize>>) {
        let guard = CloseGuard::default();
        let asked = Arc::new(Mutex::new(0));
        let seen = asked.clone();
        guard.ask_through(Channel::new(move |_| {
            *seen.lock().unwrap() += 1;
            Ok(())
        }));
        (guard, asked)
    }

    /// As if the page's first ask went out `ago`.
    fn sent(guard: &CloseGuard, ago: Duration) {
        let mut asked = guard.asked.lock().unwrap();
        asked.as_mut().unwrap().sent_at = Instant::now() - ago;
    }

    #[test]
    fn nothing_is_held_without_a_run_or_a_page_to_ask() {
        let guard = CloseGuard::default();
        assert_eq!(guard.holds(names(&["prod"])), Hold::Close, "no page to ask");
        assert_eq!(guard.holds(Vec::new()), Hold::Close);
        assert!(!guard.let_go(&[]), "nothing was asked");
        assert!(!guard.let_go(&names(&["prod"])), "nothing was asked");
    }

    #[test]
    fn a_close_is_held_once_asked_and_let_go_only_by_the_newest_ask() {
        let (guard, asked) = asking();
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked);
        guard.seen(&names(&["prod"]));
        assert_eq!(guard.holds(names(&["prod", "staging"])), Hold::Asked);
        assert_eq!(*asked.lock().unwrap(), 2);
        assert!(!guard.let_go(&names(&["prod"])), "an older ask's answer");
        guard.seen(&names(&["prod", "staging"]));
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked, "still held");
        assert!(guard.let_go(&names(&["prod"])));
        assert_eq!(guard.holds(names(&["prod"])), Hold::Close, "let go");
        guard.forget_asker();
    }

    #[test]
    fn a_page_gone_holds_nothing() {
        let guard = CloseGuard::default();
        guard.ask_through(Channel::new(|_| Ok(())));
        guard.forget_asker();
        assert_eq!(guard.holds(names(&["prod"])), Hold::Close);
    }

    #[test]
    fn a_page_that_never_shows_the_question_is_asked_past_once_it_had_time_to() {
        let (guard, asked) = asking();
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked);
        // Asked again at once: the page may be about to show it.
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked);
        sent(&guard, UNSEEN_AFTER);
        assert_eq!(
            guard.holds(names(&["prod"])),
            Hold::PageSilent(names(&["prod"])),
            "the first ask went unseen: asked again, the desktop asks"
        );
        assert_eq!(
            *asked.lock().unwrap(),
            2,
            "the silent page is not asked again"
        );
        // A page that shows a question in time is asked, however long the operator takes.
        let (guard, _) = asking();
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked);
        guard.seen(&names(&["prod"]));
        sent(&guard, UNSEEN_AFTER * 10);
        assert_eq!(guard.holds(names(&["prod"])), Hold::Asked);
        // Seeing another ask's question is not seeing this one.
        assert!(!guard.seen(&names(&["staging"])));
        sent(&guard, UNSEEN_AFTER);
        assert_eq!(
            guard.holds(names(&["prod"])),
            Hold::PageSilent(names(&["prod"]))
        );
    }
}
