//! Who the client is behind a reverse proxy. `X-Forwarded-For` is believed only from the
//! proxies in `server.trusted_proxies`: from anyone else it is a header a client can forge.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address and scheme as far as the trusted proxies tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: IpAddr,
    pub https: bool,
}

pub fn client_info(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> ClientInfo {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return ClientInfo {
            ip: peer,
            https: false,
        };
    }
    // Walk the chain from the nearest hop back: the first address not one of our proxies is
    // the client (anything further left was written by the client itself).
    let mut ip = peer;
    let chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    for hop in chain.iter().rev() {
        ip = *hop;
        if !is_trusted(hop) {
            break;
        }
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        });
    ClientInfo { ip, https }
}

/// The client of a request (the peer address when there is no connection info, as in tests).
pub fn of_request(request: &Request, trusted: &[IpNet]) -> Option<ClientInfo> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip();
    Some(client_info(peer, request.headers(), trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str, proto: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h.insert("x-forwarded-proto", proto.parse().unwrap());
        h
    }

    #[test]
    fn believes_only_trusted_proxies() {
        let trusted: Vec<IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let h = headers("6.6.6.6, 203.0.113.7, 10.0.0.2", "https");
        // Through nginx (127.0.0.1) and an internal balancer (10.0.0.2): the client is the
        // first untrusted hop from the right; what it claimed before that is ignored.
        let info = client_info("127.0.0.1".parse().unwrap(), &h, &trusted);
        assert_eq!(
            info,
            ClientInfo {
                ip: "203.0.113.7".parse().unwrap(),
                https: true
            }
        );
        // A client talking to vitrina directly cannot pretend.
        let info = client_info("198.51.100.9".parse().unwrap(), &h, &trusted);
        assert_eq!(
            info,
            ClientInfo {
                ip: "198.51.100.9".parse().unwrap(),
                https: false
            }
        );
        // Garbage in the header is skipped.
        let info = client_info(
            "127.0.0.1".parse().unwrap(),
            &headers("nonsense, 192.0.2.1", "http"),
            &trusted,
        );
        assert_eq!(info.ip, "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
