//! After applying `HostName`, ssh lowercases the name, except that anything
//! getaddrinfo(3) accepts as a numeric address is rewritten in its canonical form instead
//! (`127.1` becomes `127.0.0.1`, `FE80:0::1` becomes `fe80::1`). glibc's idea of a numeric
//! IPv4 address is inet_aton's, which is far looser than Rust's parser, and its IPv6
//! formatting differs from Rust's in one corner, so both are written out here.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The host name ssh would connect to, given the name after `HostName` expansion.
pub(super) fn canonical_host_name(name: &str) -> String {
    let canonical = if let Some(v4) = parse_loose_ipv4(name) {
        v4.to_string()
    } else if let Ok(v6) = name.parse::<Ipv6Addr>() {
        format_ipv6(v6)
    } else {
        return name.to_ascii_lowercase();
    };
    // ssh keeps the name as written when it differs from the canonical form only in case.
    if canonical.eq_ignore_ascii_case(name) {
        name.to_string()
    } else {
        canonical
    }
}

/// inet_aton's forms: one to four dot-separated C numbers (decimal, `0` octal, `0x` hex),
/// the last filling the remaining bytes (`10.1` is 10.0.0.1).
fn parse_loose_ipv4(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let values = parts
        .iter()
        .map(|part| parse_c_number(part))
        .collect::<Option<Vec<u64>>>()?;
    let (&last, leading) = values.split_last()?;
    if leading.iter().any(|&byte| byte > 0xff) {
        return None;
    }
    let last_bits = 32 - 8 * leading.len() as u32;
    if last >= 1u64 << last_bits {
        return None;
    }
    let mut address = 0u64;
    for (index, &byte) in leading.iter().enumerate() {
        address |= byte << (24 - 8 * index);
    }
    Some(Ipv4Addr::from((address | last) as u32))
}

fn parse_c_number(text: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            (hex, 16)
        } else if text.len() > 1 && text.starts_with('0') {
            (&text[1..], 8)
        } else {
            (text, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|&v| v <= u32::MAX as u64)
}

/// inet_ntop's form: the longest run (first on ties, at least two) of zero groups becomes
/// `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` keep the IPv4 tail dotted.
fn format_ipv6(address: Ipv6Addr) -> String {
    let groups = address.segments();
    let mut best: Option<(usize, usize)> = None;
    let mut index = 0;
    while index < 8 {
        if groups[index] != 0 {
            index += 1;
            continue;
        }
        let start = index;
        while index < 8 && groups[index] == 0 {
            index += 1;
        }
        let length = index - start;
        if length >= 2 && best.is_none_or(|(_, best_length)| length > best_length) {
            best = Some((start, length));
        }
    }
    let embeds_ipv4 =
        matches!(best, Some((0, 6))) || (matches!(best, Some((0, 5))) && groups[5] == 0xffff);
    let mut text = String::new();
    let mut group = 0;
    while group < 8 {
        if let Some((start, length)) = best.filter(|&(start, _)| start == group) {
            text.push_str("::");
            group = start + length;
            continue;
        }
        if group > 0 && !text.ends_with(':') {
            text.push(':');
        }
        if group == 6 && embeds_ipv4 {
            let octets = address.octets();
            text.push_str(
                &Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]).to_string(),
            );
            break;
        }
        text.push_str(&format!("{:x}", groups[group]));
        group += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased() {
        assert_eq!(canonical_host_name("Web.Example.COM"), "web.example.com");
        assert_eq!(canonical_host_name("1.2.3.4.5"), "1.2.3.4.5");
        assert_eq!(canonical_host_name("08.0.0.1"), "08.0.0.1");
        assert_eq!(canonical_host_name("256.1.1.1"), "256.1.1.1");
        assert_eq!(canonical_host_name("4294967296"), "4294967296");
    }

    #[test]
    fn loose_ipv4_forms_as_glibc_reads_them() {
        assert_eq!(canonical_host_name("127.1"), "127.0.0.1");
        assert_eq!(canonical_host_name("127.000.0.1"), "127.0.0.1");
        assert_eq!(canonical_host_name("010.0.0.1"), "8.0.0.1");
        assert_eq!(canonical_host_name("0x7f.1"), "127.0.0.1");
        assert_eq!(canonical_host_name("1234"), "0.0.4.210");
        assert_eq!(canonical_host_name("1.2.65535"), "1.2.255.255");
        assert_eq!(canonical_host_name("4294967295"), "255.255.255.255");
    }

    #[test]
    fn ipv6_forms_as_inet_ntop_writes_them() {
        assert_eq!(canonical_host_name("0:0:0:0:0:0:0:1"), "::1");
        assert_eq!(canonical_host_name("FE80:0:0::0001"), "fe80::1");
        assert_eq!(canonical_host_name("FE80::1"), "FE80::1");
        assert_eq!(canonical_host_name("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(canonical_host_name("1:0:2:0:3:0:4:0"), "1:0:2:0:3:0:4:0");
        assert_eq!(canonical_host_name("::FFFF:1.2.3.4"), "::FFFF:1.2.3.4");
        assert_eq!(canonical_host_name("::ffff:0102:0304"), "::ffff:1.2.3.4");
        assert_eq!(canonical_host_name("::0102:0304"), "::1.2.3.4");
        assert_eq!(canonical_host_name("1::"), "1::");
        assert_eq!(canonical_host_name("::"), "::");
    }
}
