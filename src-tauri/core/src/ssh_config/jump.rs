//! ssh checks every hop of a `ProxyJump` list when it reads the file, and keeps the last
//! hop parsed (`ssh://bob@jump:2200` becomes `bob@jump:2200`). The value is shown to the
//! operator, so it is checked and written the way `ssh -G` writes it; importing a host
//! reads its hops back with [`hops`].

/// `Ok(None)` for `none`; `Ok(Some(list))` normalised; `Err(())` if any hop is malformed.
pub(super) fn parse_jump_list(value: &str) -> Result<Option<String>, ()> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (earlier_hops, last_hop) = match value.rfind(',') {
        Some(comma) => (Some(&value[..comma]), &value[comma + 1..]),
        None => (None, value),
    };
    for hop in earlier_hops.into_iter().flat_map(|hops| hops.split(',')) {
        parse_hop(hop)?;
    }
    let last = parse_hop(last_hop)?;
    let mut written = String::new();
    if let Some(earlier) = earlier_hops {
        written.push_str(earlier);
        written.push(',');
    }
    if let Some(user) = &last.user {
        written.push_str(user);
        written.push('@');
    }
    if last.host.contains(':') {
        written.push_str(&format!("[{}]", last.host));
    } else {
        written.push_str(&last.host);
    }
    if let Some(port) = last.port {
        written.push_str(&format!(":{port}"));
    }
    Ok(Some(written))
}

/// One hop of a `ProxyJump` list: `host` is a name ssh looks up in the config as an
/// alias of its own; `user` and `port`, when written, win over what that says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    pub(crate) user: Option<String>,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

/// The hops of a `ProxyJump` value as [`parse_jump_list`] writes it, in order.
pub(crate) fn hops(written: &str) -> Result<Vec<Hop>, ()> {
    written.split(',').map(parse_hop).collect()
}

/// `[user@]host[:port]`, `[user@][v6]:port`, or `ssh://[user@]host[:port][/]`.
fn parse_hop(hop: &str) -> Result<Hop, ()> {
    let address = match hop.strip_prefix("ssh://") {
        Some(uri) => match uri.find('/') {
            Some(slash) if slash + 1 == uri.len() => &uri[..slash],
            Some(_) => return Err(()),
            None => uri,
        },
        None => hop,
    };
    let (user, host_and_port) = match address.rfind('@') {
        Some(0) => return Err(()),
        Some(at) => (Some(&address[..at]), &address[at + 1..]),
        None => (None, address),
    };
    // A URI's user part may carry `;parameters`, which ssh ignores.
    let user = user.map(|u| match hop.starts_with("ssh://") {
        true => u.split(';').next().unwrap_or(u).to_string(),
        false => u.to_string(),
    });
    let (host, port_text) = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        let close = bracketed.find(']').ok_or(())?;
        let after = &bracketed[close + 1..];
        let port_text = match after.chars().next() {
            None => None,
            Some(':' | '/') => Some(&after[1..]),
            Some(_) => return Err(()),
        };
        (&bracketed[..close], port_text)
    } else {
        match host_and_port.find([':', '/']) {
            Some(at) => (&host_and_port[..at], Some(&host_and_port[at + 1..])),
            None => (host_and_port, None),
        }
    };
    if host.is_empty() {
        return Err(());
    }
    let port = match port_text.filter(|text| !text.is_empty()) {
        // A number, or a service's name (`ssh`), as ssh reads a port.
        Some(text) => Some(super::evaluate::parse_port(text).ok_or(())?),
        None => None,
    };
    Ok(Hop {
        user,
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(value: &str) -> Option<String> {
        parse_jump_list(value).unwrap()
    }

    #[test]
    fn hops_are_written_as_ssh_prints_them() {
        assert_eq!(written("none"), None);
        assert_eq!(written("NONE"), None);
        assert_eq!(written("jump").as_deref(), Some("jump"));
        assert_eq!(written("bob@jump:2200").as_deref(), Some("bob@jump:2200"));
        assert_eq!(
            written("ssh://bob@jump.example:2200").as_deref(),
            Some("bob@jump.example:2200")
        );
        assert_eq!(written("ssh://jump/").as_deref(), Some("jump"));
        assert_eq!(written("[::1]:22").as_deref(), Some("[::1]:22"));
        assert_eq!(written("jump:").as_deref(), Some("jump"));
        assert_eq!(written("ssh://u;x=y@h").as_deref(), Some("u@h"));
        assert_eq!(written("[jump]:22").as_deref(), Some("jump:22"));
        assert_eq!(written("a@b:3,c").as_deref(), Some("a@b:3,c"));
        assert_eq!(written("bob@jump:ssh").as_deref(), Some("bob@jump:22"));
        assert_eq!(
            written("first,ssh://x@last:9").as_deref(),
            Some("first,x@last:9")
        );
    }

    #[test]
    fn a_written_list_reads_back_hop_by_hop() {
        let list = written("ssh://ann@bastion:2200,inner").unwrap();
        let hops = hops(&list).unwrap();
        assert_eq!(
            hops,
            vec![
                Hop {
                    user: Some("ann".into()),
                    host: "bastion".into(),
                    port: Some(2200)
                },
                Hop {
                    user: None,
                    host: "inner".into(),
                    port: None
                }
            ]
        );
    }

    #[test]
    fn malformed_hops_are_refused() {
        for value in [
            "jump:0",
            "jump:x",
            "@jump",
            ":22",
            "a,b:99999",
            "ssh://h/p",
            "[::1",
        ] {
            assert!(parse_jump_list(value).is_err(), "{value}");
        }
    }
}
