//! ssh refuses a whole config file over one keyword it does not know (unless an earlier
//! `IgnoreUnknown` covers it) or one algorithm list naming an algorithm it does not have,
//! wherever the line stands, applied or not. A host Shipshape imports from a file `ssh`
//! itself would refuse is a host the operator never reached that way, so the same lines
//! are refused here, with ssh's words.
//!
//! The keywords are OpenSSH's client keywords (9.2's, deprecated ones included, as ssh
//! accepts them silently, and the ones newer releases added, so a newer ssh's valid
//! file is not refused); Debian's GSSAPI key-exchange patch adds its own.

use super::pattern::wildcard_match;
use super::syntax::ConfigLine;
use crate::error::{Error, Result};

#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "addkeystoagent", "addressfamily", "afstokenpassing", "batchmode", "bindaddress",
    "bindinterface", "canonicaldomains", "canonicalizefallbacklocal", "canonicalizehostname",
    "canonicalizemaxdots", "canonicalizepermittedcnames", "casignaturealgorithms",
    "certificatefile", "challengeresponseauthentication", "channeltimeout", "checkhostip",
    "cipher", "ciphers", "clearallforwardings", "compression", "compressionlevel",
    "connectionattempts", "connecttimeout", "controlmaster", "controlpath", "controlpersist",
    "dsaauthentication", "dynamicforward", "enableescapecommandline", "enablesshkeysign",
    "escapechar", "exitonforwardfailure", "fallbacktorsh", "fingerprinthash",
    "forkafterauthentication", "forwardagent", "forwardx11", "forwardx11timeout",
    "forwardx11trusted", "gatewayports", "globalknownhostsfile", "globalknownhostsfile2",
    "gssapiauthentication", "gssapiclientidentity", "gssapidelegatecredentials",
    "gssapikexalgorithms", "gssapikeyexchange", "gssapirenewalforcesrekey",
    "gssapiserveridentity", "gssapitrustdns", "hashknownhosts", "host",
    "hostbasedacceptedalgorithms", "hostbasedauthentication", "hostbasedkeytypes",
    "hostkeyalgorithms", "hostkeyalias", "hostname", "identitiesonly", "identityagent",
    "identityfile", "identityfile2", "ignoreunknown", "include", "ipqos",
    "kbdinteractiveauthentication", "kbdinteractivedevices", "keepalive",
    "kerberosauthentication", "kerberostgtpassing", "kexalgorithms", "knownhostscommand",
    "localcommand", "localforward", "loglevel", "logverbose", "macs", "match",
    "nohostauthenticationforlocalhost", "numberofpasswordprompts", "obscurekeystroketiming",
    "passwordauthentication", "permitlocalcommand", "permitremoteopen", "pkcs11provider",
    "port", "preferredauthentications", "protocol", "protocolkeepalives", "proxycommand",
    "proxyjump", "proxyusefdpass", "pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes",
    "pubkeyauthentication", "refuseconnection", "rekeylimit", "remotecommand",
    "remoteforward", "requesttty", "requiredrsasize", "revokedhostkeys",
    "rhostsauthentication", "rhostsrsaauthentication", "securitykeyprovider", "sendenv",
    "serveralivecountmax", "serveraliveinterval", "sessiontype", "setenv", "setuptimeout",
    "skeyauthentication", "smartcarddevice", "stdinnull", "streamlocalbindmask",
    "streamlocalbindunlink", "stricthostkeychecking", "syslogfacility", "tag",
    "tcpkeepalive", "tisauthentication", "tunnel", "tunneldevice", "updatehostkeys",
    "useblacklistedkeys", "user", "useprivilegedport", "userknownhostsfile",
    "userknownhostsfile2", "useroaming", "usersh", "verifyhostkeydns", "visualhostkey",
    "warnweakcrypto", "xauthlocation",
];

#[rustfmt::skip]
const CIPHERS: &[&str] = &[
    "3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-ctr", "aes192-ctr",
    "aes256-ctr", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
];

#[rustfmt::skip]
const MACS: &[&str] = &[
    "hmac-sha1", "hmac-sha1-96", "hmac-sha2-256", "hmac-sha2-512", "hmac-md5", "hmac-md5-96",
    "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha1-etm@openssh.com",
    "hmac-sha1-96-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com", "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com",
    "umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
];

#[rustfmt::skip]
const KEX: &[&str] = &[
    "diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1",
    "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521", "curve25519-sha256", "curve25519-sha256@libssh.org",
    "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "mlkem768x25519-sha256",
];

#[rustfmt::skip]
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss", "ssh-dss-cert-v01@openssh.com", "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256", "rsa-sha2-256-cert-v01@openssh.com", "rsa-sha2-512",
    "rsa-sha2-512-cert-v01@openssh.com",
];

/// Refuses `line` as ssh would: a keyword it does not know (unless `ignore_unknown`, the
/// `IgnoreUnknown` pattern list in force, names it) or an algorithm list it cannot use.
pub(super) fn check(line: &ConfigLine, origin: &str, ignore_unknown: Option<&str>) -> Result<()> {
    let refused = |problem: String| {
        Error::BadInput(format!(
            "{origin}: {problem} ssh refuses the whole file for it; correct that line first."
        ))
    };
    // Apple's ssh knows one more: a macOS operator's file uses it, and ssh there takes it.
    let apple = cfg!(target_os = "macos") && line.keyword == "usekeychain";
    if !KEYWORDS.contains(&line.keyword.as_str()) && !apple {
        let ignored = ignore_unknown.is_some_and(|patterns| {
            super::pattern::pattern_list_match(&line.keyword, &patterns.to_ascii_lowercase(), false)
                == super::pattern::ListMatch::Positive
        });
        return match ignored {
            true => Ok(()),
            false => Err(refused(format!(
                "Bad configuration option: {}.",
                line.keyword
            ))),
        };
    }
    let (known, what, wildcards): (&[&str], &str, bool) = match line.keyword.as_str() {
        "ciphers" => (CIPHERS, "SSH2 cipher spec", false),
        "macs" => (MACS, "SSH2 MAC spec", false),
        "kexalgorithms" => (KEX, "SSH2 KexAlgorithms", false),
        "hostkeyalgorithms"
        | "hostbasedacceptedalgorithms"
        | "hostbasedkeytypes"
        | "pubkeyacceptedalgorithms"
        | "pubkeyacceptedkeytypes"
        | "casignaturealgorithms" => (KEY_TYPES, "key types", true),
        _ => return Ok(()),
    };
    let Some(list) = line.args.first() else {
        return Ok(()); // "needs a value" is the syntax's to say
    };
    if algorithm_list_valid(list, known, wildcards) {
        Ok(())
    } else {
        Err(refused(format!("Bad {what} '{list}'.")))
    }
}

/// ssh's rule: a list that removes (`-`) is not checked; one that appends (`+`) or puts
/// first (`^`) is checked without its sign; each name must be one ssh has, or (for key
/// types) a wildcard that matches one.
fn algorithm_list_valid(list: &str, known: &[&str], wildcards: bool) -> bool {
    if list.starts_with('-') {
        return true;
    }
    let list = list.strip_prefix(['+', '^']).unwrap_or(list);
    list.split(',').filter(|name| !name.is_empty()).all(|name| {
        known.contains(&name)
            || (wildcards
                && name.contains(['*', '?'])
                && known.iter().any(|k| wildcard_match(k, name)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(keyword: &str, value: &str) -> ConfigLine {
        ConfigLine {
            number: 3,
            keyword: keyword.into(),
            args: vec![value.into()],
        }
    }

    #[test]
    fn unknown_keywords_are_refused_unless_ignored() {
        let error = check(&line("frobnicate", "1"), "config line 3", None).unwrap_err();
        assert!(error
            .to_string()
            .contains("config line 3: Bad configuration option: frobnicate"));
        assert!(check(&line("frobnicate", "1"), "x", Some("Frob*,UseKeychain")).is_ok());
        assert!(check(&line("frobnicate", "1"), "x", Some("usekeychain")).is_err());
        assert!(check(&line("serveraliveinterval", "1"), "x", None).is_ok());
    }

    #[test]
    fn algorithm_lists_follow_ssh() {
        let ok = |k: &str, v: &str| check(&line(k, v), "x", None).is_ok();
        assert!(ok("ciphers", "aes128-ctr,chacha20-poly1305@openssh.com"));
        assert!(ok("ciphers", "+aes128-cbc"));
        assert!(ok("ciphers", "-anything*"));
        assert!(!ok("ciphers", "aes128-ctr,bogus"));
        assert!(!ok("ciphers", "aes*"));
        assert!(ok("macs", "^hmac-sha2-256"));
        assert!(!ok("macs", "hmac-sha3"));
        assert!(ok("kexalgorithms", "curve25519-sha256"));
        assert!(!ok("kexalgorithms", "curve448"));
        assert!(ok("hostkeyalgorithms", "ssh-ed25519*,rsa-sha2-512"));
        assert!(!ok("hostkeyalgorithms", "zz*"));
        assert!(!ok("pubkeyacceptedalgorithms", "ssh-ed448"));
    }
}
