//! The client's address behind reverse proxies. Only a peer the operator
//! trusts (`--trusted-proxies`) may say who the client is, through the one
//! header the proxy sets (`--proxy-header`); the header is read right to
//! left, skipping trusted hops, so that what a client wrote into it itself
//! (always to the left of what the proxies appended) is never believed.
//! Anything else and the peer's own address is the client's.

use axum::http::HeaderMap;
use std::net::IpAddr;
use std::str::FromStr;

/// At most this many hops of a forwarding header are looked at.
const MAX_HOPS: usize = 32;

/// An address block, `10.0.0.0/8` or `2001:db8::/32`; a bare address is a
/// block of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (address, prefix) = text.split_once('/').map_or((text, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = address.parse().map_err(|_| format!("not an IP address: {address:?}"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(|| format!("not a prefix length: {p:?}"))?
            }
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        let leading = |a: u128, b: u128, bits: u32| {
            let shift = bits - u32::from(self.prefix);
            shift >= bits || (a >> shift) == (b >> shift)
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => leading(u32::from(n).into(), u32::from(a).into(), 32),
            (IpAddr::V6(n), IpAddr::V6(a)) => leading(u128::from(n), u128::from(a), 128),
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The header the trusted proxies set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:4711"`.
    #[value(name = "forwarded")]
    Forwarded,
}

/// Which peers may name the client, and how.
#[derive(Clone, Debug)]
pub struct Proxies {
    /// The proxies' addresses; empty: no header is believed.
    pub trusted: Vec<Cidr>,
    /// The header they set.
    pub header: ProxyHeader,
}

impl Proxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|block| block.contains(ip))
    }

    /// The client's address for a request from `peer` with `headers`: the
    /// rightmost hop that is not a trusted proxy. A hop that cannot be read
    /// ends the walk at the trusted proxy that reported it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let name = match self.header {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        };
        // Several header lines are one list, in order (RFC 9110 §5.3).
        let hops: Vec<&str> = headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap_or("unreadable"))
            .flat_map(|line| line.split(','))
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            let address = match self.header {
                ProxyHeader::XForwardedFor => parse_node(hop.trim()),
                ProxyHeader::Forwarded => forwarded_for(hop),
            };
            match address.map(canonical) {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` of one `Forwarded` element (`for=1.2.3.4;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| parse_node(value.trim().trim_matches('"')))?
    })
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`
/// or `[2001:db8::1]:4711`. `unknown` and obfuscated names are not
/// addresses.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.parse().ok().or_else(|| {
        let (ip, port) = node.rsplit_once(':')?;
        port.parse::<u16>().ok()?;
        ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(name: &str, lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(line).unwrap(),
            );
        }
        map
    }

    fn proxies(trusted: &[&str], header: ProxyHeader) -> Proxies {
        Proxies { trusted: trusted.iter().map(|c| c.parse().unwrap()).collect(), header }
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.255.3")) && !block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped");
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert!("127.0.0.1".parse::<Cidr>().unwrap().contains(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/", "10.0.0.0/-1"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let forged = headers("x-forwarded-for", &["1.2.3.4"]);
        assert_eq!(p.client(ip("203.0.113.9"), &forged), ip("203.0.113.9"));
        let nobody = proxies(&[], ProxyHeader::XForwardedFor);
        assert_eq!(nobody.client(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        // The client wrote "6.6.6.6" itself; the edge proxy appended its
        // real address, an inner proxy its own.
        let h = headers("x-forwarded-for", &["6.6.6.6, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("198.51.100.7"));
        let ported = headers("x-forwarded-for", &["198.51.100.7:5555", "[2001:db8::7]:443"]);
        assert_eq!(p.client(ip("10.0.0.2"), &ported), ip("2001:db8::7"));
        // Only proxies: the leftmost of them.
        let inner = headers("x-forwarded-for", &["10.9.9.9, 10.0.0.5"]);
        assert_eq!(p.client(ip("10.0.0.2"), &inner), ip("10.9.9.9"));
        // No header, or garbage: the last trusted hop.
        assert_eq!(p.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        let garbage = headers("x-forwarded-for", &["1.2.3.4, unknown, 10.0.0.5"]);
        assert_eq!(p.client(ip("10.0.0.2"), &garbage), ip("10.0.0.5"));
    }

    #[test]
    fn forwarded_is_read_only_when_it_is_the_configured_header() {
        let h = headers("forwarded", &["for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.5"]);
        let rfc = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        assert_eq!(rfc.client(ip("10.0.0.2"), &h), ip("2001:db8:cafe::17"));
        let xff = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        assert_eq!(xff.client(ip("10.0.0.2"), &h), ip("10.0.0.2"), "a Forwarded header the proxy did not set");
        let obfuscated = headers("forwarded", &["for=_hidden"]);
        assert_eq!(rfc.client(ip("10.0.0.2"), &obfuscated), ip("10.0.0.2"));
    }

    #[test]
    fn long_chains_are_cut() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let chain = vec!["10.0.0.1"; 1000].join(", ");
        let h = headers("x-forwarded-for", &[&format!("1.2.3.4, {chain}")]);
        assert_eq!(p.client(ip("10.0.0.2"), &h), ip("10.0.0.1"), "the client past 32 hops is not looked for");
    }
}
