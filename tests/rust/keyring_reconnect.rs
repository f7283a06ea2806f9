//! A Secret Service that could not be reached when Shipshape started is used as soon as
//! it can be: the keyring is opened again on the next try, not remembered as missing for
//! the life of the process (the `keyring` crate's own entry point does that). A test
//! binary of its own: it changes the process's D-Bus address.

use shipshape_core::keys;
use shipshape_core::ErrorCode;

#[test]
fn the_keyring_is_reached_once_it_answers_though_it_did_not_at_first() {
    let Some(address) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") else {
        panic!("run under tests/with-keyring.sh: this test needs a Secret Service");
    };
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/shipshape-test-bus",
    );
    let unreachable = keys::load("shipshape-test-no-such-key")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        unreachable.code(),
        ErrorCode::KeyringUnavailable,
        "{unreachable}"
    );

    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
    let reached = keys::load("shipshape-test-no-such-key")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(reached.code(), ErrorCode::KeyNotFound, "{reached}");
}
