//! SASL on a Kafka connection: PLAIN and SCRAM-SHA-256/512 against the configured users, and
//! MSK's IAM mechanisms — OAUTHBEARER with a token from aws-msk-iam-sasl-signer (a presigned
//! SigV4 URL for `kafka-cluster:Connect`) and the Java plugin's AWS_MSK_IAM (the same fields
//! as JSON) — verified like any SigV4 request when keys are configured, any well-formed one
//! accepted otherwise.

use std::collections::HashMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

pub const MECHANISMS: [&str; 5] = [
    "PLAIN",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
    "OAUTHBEARER",
    "AWS_MSK_IAM",
];

/// SCRAM's iteration count (Kafka's default for credentials it stores).
const ITERATIONS: u32 = 4096;
/// A signed token is good for this long past its X-Amz-Date when it names no expiry.
const DEFAULT_EXPIRES_S: i64 = 900;
/// The longest expiry SigV4 allows (7 days).
const MAX_EXPIRES_S: i64 = 604_800;
/// How far ahead of Weir's clock a token may be dated.
const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// Who may authenticate: users (PLAIN, SCRAM) and access keys (IAM). Empty keys: any
/// well-formed IAM signature is taken.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub users: HashMap<String, String>,
    pub keys: HashMap<String, String>,
    /// SASL is required: IAM tokens are then taken only when keys can verify them.
    pub strict: bool,
}

impl Credentials {
    /// The mechanisms offered: the IAM ones only where a token can be trusted (verified by
    /// keys, or SASL optional anyway).
    pub fn mechanisms(&self) -> Vec<&'static str> {
        let iam = !self.strict || !self.keys.is_empty();
        MECHANISMS
            .iter()
            .copied()
            .filter(|m| iam || !matches!(*m, "OAUTHBEARER" | "AWS_MSK_IAM"))
            .collect()
    }
}

/// Where a connection's authentication stands.
#[derive(Debug, Default)]
pub enum Session {
    #[default]
    None,
    /// A mechanism chosen by SaslHandshake, awaiting its first SaslAuthenticate.
    Chosen(&'static str),
    /// SCRAM's first exchange done: the server's state for the final one.
    ScramSent(Box<ScramState>),
    /// Authenticated as this principal.
    Done(String),
}

#[derive(Debug)]
pub struct ScramState {
    sha512: bool,
    user: String,
    nonce: String,
    salted: Vec<u8>,
    /// client-first-bare + "," + server-first, the start of AuthMessage.
    messages: String,
    /// Whether the user is configured (an unknown one is refused at the proof).
    known: bool,
}

impl Session {
    pub fn authenticated(&self) -> bool {
        matches!(self, Session::Done(_))
    }
}

/// One SaslAuthenticate step: the bytes to answer with, or the failure's message.
pub fn step(
    session: &mut Session,
    creds: &Credentials,
    token: &[u8],
    now_ms: i64,
) -> Result<Vec<u8>, String> {
    match std::mem::take(session) {
        Session::Chosen("PLAIN") => {
            let user = plain(creds, token)?;
            *session = Session::Done(user);
            Ok(Vec::new())
        }
        Session::Chosen(m @ ("SCRAM-SHA-256" | "SCRAM-SHA-512")) => {
            let (state, first) = scram_first(creds, token, m == "SCRAM-SHA-512")?;
            *session = Session::ScramSent(Box::new(state));
            Ok(first.into_bytes())
        }
        Session::ScramSent(state) => {
            let (user, last) = scram_final(&state, token)?;
            *session = Session::Done(user);
            Ok(last.into_bytes())
        }
        Session::Chosen("OAUTHBEARER") => {
            let principal = oauthbearer(creds, token, now_ms)?;
            *session = Session::Done(principal);
            Ok(Vec::new())
        }
        Session::Chosen("AWS_MSK_IAM") => {
            let principal = msk_iam_json(creds, token, now_ms)?;
            *session = Session::Done(principal);
            let request_id = format!("{:032x}", rand::random::<u128>());
            Ok(format!(r#"{{"version":"2020_10_22","request-id":"{request_id}"}}"#).into_bytes())
        }
        Session::Done(_) => Err("Already authenticated.".into()),
        _ => Err(NO_HANDSHAKE.into()),
    }
}

const BAD_LOGIN: &str = "Authentication failed: Invalid username or password";
/// SaslAuthenticate before a SaslHandshake chose a mechanism (ILLEGAL_SASL_STATE).
pub const NO_HANDSHAKE: &str = "SaslHandshake must come first.";

fn plain(creds: &Credentials, token: &[u8]) -> Result<String, String> {
    let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
    let [_authzid, user, password] = parts.as_slice() else {
        return Err("Invalid SASL/PLAIN response: expected 3 tokens".into());
    };
    let user = String::from_utf8_lossy(user).into_owned();
    match creds.users.get(&user) {
        Some(p) if weir_sigv4::constant_time_eq(p.as_bytes(), password) => Ok(user),
        _ => Err(BAD_LOGIN.into()),
    }
}

fn mac(sha512: bool, key: &[u8], data: &[u8]) -> Vec<u8> {
    match sha512 {
        true => Hmac::<Sha512>::new_from_slice(key)
            .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
        false => Hmac::<Sha256>::new_from_slice(key)
            .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
            .unwrap_or_default(),
    }
}

fn hash(sha512: bool, data: &[u8]) -> Vec<u8> {
    match sha512 {
        true => Sha512::digest(data).to_vec(),
        false => Sha256::digest(data).to_vec(),
    }
}

/// PBKDF2 with one block of the hash's length (RFC 5802's Hi()).
fn salted_password(sha512: bool, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = mac(sha512, password, &first);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = mac(sha512, password, &u);
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A SCRAM attribute (`n=`, `r=`, ...) of a comma-separated message.
fn attr<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split(',')
        .find_map(|p| p.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
}

fn scram_first(
    creds: &Credentials,
    token: &[u8],
    sha512: bool,
) -> Result<(ScramState, String), String> {
    let msg = std::str::from_utf8(token).map_err(|_| "Invalid SCRAM client first message")?;
    // gs2 header: "n,," (no channel binding), optionally with an authzid.
    let mut parts = msg.splitn(3, ',');
    let (cb, _authz, bare) = (parts.next(), parts.next(), parts.next());
    if !matches!(cb, Some("n" | "y")) {
        return Err("Invalid SCRAM client first message: channel binding is not served".into());
    }
    let bare = bare.ok_or("Invalid SCRAM client first message")?;
    let user = attr(bare, "n").ok_or("Invalid SCRAM client first message: no user")?;
    let user = user.replace("=2C", ",").replace("=3D", "=");
    let client_nonce = attr(bare, "r").ok_or("Invalid SCRAM client first message: no nonce")?;
    // An unknown user goes through the same steps and fails at the proof, as Kafka's does.
    let known = creds.users.contains_key(&user);
    let password = creds.users.get(&user).cloned().unwrap_or_default();
    let salt: [u8; 16] = rand::random();
    let server_nonce = format!("{client_nonce}{:032x}", rand::random::<u128>());
    let server_first = format!("r={server_nonce},s={},i={ITERATIONS}", b64().encode(salt));
    let state = ScramState {
        sha512,
        user,
        nonce: server_nonce,
        salted: salted_password(sha512, password.as_bytes(), &salt, ITERATIONS),
        messages: format!("{bare},{server_first}"),
        known,
    };
    Ok((state, server_first))
}

fn scram_final(state: &ScramState, token: &[u8]) -> Result<(String, String), String> {
    let msg = std::str::from_utf8(token).map_err(|_| "Invalid SCRAM client final message")?;
    let (without_proof, proof) = msg
        .rsplit_once(",p=")
        .ok_or("Invalid SCRAM client final message: no proof")?;
    if attr(without_proof, "r") != Some(state.nonce.as_str()) {
        return Err("Invalid SCRAM client final message: nonce mismatch".into());
    }
    let proof = b64()
        .decode(proof)
        .map_err(|_| "Invalid SCRAM client final message: proof")?;
    let auth_message = format!("{},{without_proof}", state.messages);
    let sha = state.sha512;
    let client_key = mac(sha, &state.salted, b"Client Key");
    let stored_key = hash(sha, &client_key);
    let signature = mac(sha, &stored_key, auth_message.as_bytes());
    let recovered: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
    if proof.len() != signature.len()
        || !weir_sigv4::constant_time_eq(&hash(sha, &recovered), &stored_key)
        || !state.known
    {
        return Err(BAD_LOGIN.into());
    }
    let server_key = mac(sha, &state.salted, b"Server Key");
    let server_signature = mac(sha, &server_key, auth_message.as_bytes());
    Ok((
        state.user.clone(),
        format!("v={}", b64().encode(server_signature)),
    ))
}

/// The fields of a signed `kafka-cluster:Connect` request, as either IAM mechanism carries
/// them.
struct Signed {
    host: String,
    params: Vec<(String, String)>,
}

fn oauthbearer(creds: &Credentials, token: &[u8], now_ms: i64) -> Result<String, String> {
    // RFC 7628: "n,," then \x01-separated key=value pairs, auth=Bearer <token>.
    let msg = std::str::from_utf8(token).map_err(|_| "Invalid OAUTHBEARER message")?;
    // The scheme is matched without regard to case, and any spaces may follow it (Kafka's).
    let bearer = msg
        .split('\u{1}')
        .find_map(|kv| kv.strip_prefix("auth="))
        .and_then(|v| {
            let (scheme, token) = v.split_at_checked(6)?;
            (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(' ')).then(|| token.trim())
        })
        .ok_or("Invalid OAUTHBEARER message: no bearer token")?;
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(bearer.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("The bearer token is not an MSK IAM token (base64url of a signed URL)")?;
    let rest = url
        .strip_prefix("https://")
        .ok_or("The bearer token's URL is not https")?;
    let (host, query) = rest
        .split_once("/?")
        .ok_or("The bearer token's URL has no query")?;
    let params = weir_sigv4::parse_query(query);
    verify(
        creds,
        Signed {
            host: host.to_string(),
            params,
        },
        now_ms,
    )
}

fn msk_iam_json(creds: &Credentials, token: &[u8], now_ms: i64) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_slice(token).map_err(|_| "Invalid AWS_MSK_IAM payload: not JSON")?;
    let field = |name: &str| v.get(name).and_then(|x| x.as_str()).map(str::to_string);
    if field("version").as_deref() != Some("2020_10_22") {
        return Err("Invalid AWS_MSK_IAM payload: unknown version".into());
    }
    let host = field("host").ok_or("Invalid AWS_MSK_IAM payload: no host")?;
    let names = [
        ("action", "Action"),
        ("x-amz-algorithm", "X-Amz-Algorithm"),
        ("x-amz-credential", "X-Amz-Credential"),
        ("x-amz-date", "X-Amz-Date"),
        ("x-amz-expires", "X-Amz-Expires"),
        ("x-amz-signedheaders", "X-Amz-SignedHeaders"),
        ("x-amz-security-token", "X-Amz-Security-Token"),
        ("x-amz-signature", "X-Amz-Signature"),
    ];
    let params = names
        .iter()
        .filter_map(|(json, query)| Some((query.to_string(), field(json)?)))
        .collect();
    verify(creds, Signed { host, params }, now_ms)
}

/// Checks a signed Connect request: well-formed always, its signature when keys are set.
/// The principal is the access key id.
fn verify(creds: &Credentials, s: Signed, now_ms: i64) -> Result<String, String> {
    let get = |name: &str| {
        s.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("Action") != Some("kafka-cluster:Connect") {
        return Err("The signed request is not kafka-cluster:Connect".into());
    }
    if get("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err("The signed request is not AWS4-HMAC-SHA256".into());
    }
    let credential = get("X-Amz-Credential").ok_or("No X-Amz-Credential")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(format!("Malformed credential scope: {credential}"));
    };
    if *service != "kafka-cluster" {
        return Err(format!(
            "The credential is scoped to {service}, not kafka-cluster"
        ));
    }
    let amz_date = get("X-Amz-Date").ok_or("No X-Amz-Date")?;
    let signed_at = weir_sigv4::parse_amz_date(amz_date).ok_or("Malformed X-Amz-Date")?;
    if !amz_date.starts_with(*date) {
        return Err("The credential scope's date is not the X-Amz-Date's".into());
    }
    let expires = match get("X-Amz-Expires") {
        None => DEFAULT_EXPIRES_S,
        Some(e) => e
            .parse::<i64>()
            .ok()
            .filter(|e| (1..=MAX_EXPIRES_S).contains(e))
            .ok_or("X-Amz-Expires must be 1 to 604800 seconds")?,
    };
    if signed_at > now_ms.saturating_add(MAX_SKEW_MS) {
        return Err("The IAM token is dated in the future".into());
    }
    if now_ms > signed_at.saturating_add(expires * 1000) {
        return Err("The IAM token has expired".into());
    }
    let signature = get("X-Amz-Signature").ok_or("No X-Amz-Signature")?;
    if creds.keys.is_empty() {
        // Without keys nothing can be verified: taken only when SASL is optional anyway.
        return match creds.strict {
            false => Ok(key_id.to_string()),
            true => Err("IAM tokens cannot be verified: no [auth] keys are configured".into()),
        };
    }
    let secret = creds
        .keys
        .get(*key_id)
        .ok_or("The security token included in the request is invalid.")?;
    // What the signer signed: every parameter but the signature and the user agent it adds
    // afterwards, over GET / with the host header.
    let signed_params = s
        .params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature" && k != "User-Agent")
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let query = weir_sigv4::canonical_query(signed_params);
    let key = weir_sigv4::signing_key(secret, date, region, service);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let empty = weir_sigv4::sha256_hex(b"");
    for payload in [empty.as_str(), "UNSIGNED-PAYLOAD"] {
        let canonical = format!("GET\n/\n{query}\nhost:{}\n\nhost\n{payload}", s.host);
        let to_sign = weir_sigv4::string_to_sign(amz_date, &scope, &canonical);
        let expected = weir_sigv4::hex(&weir_sigv4::hmac(&key, to_sign.as_bytes()));
        if weir_sigv4::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Ok(key_id.to_string());
        }
    }
    Err("The request signature we calculated does not match the signature you provided.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            users: [("alice".to_string(), "secret".to_string())].into(),
            keys: HashMap::new(),
            strict: false,
        }
    }

    #[test]
    fn plain_checks_the_password() {
        let mut s = Session::Chosen("PLAIN");
        assert!(step(&mut s, &creds(), b"\0alice\0secret", 0).is_ok());
        assert!(s.authenticated());
        let mut s = Session::Chosen("PLAIN");
        assert_eq!(
            step(&mut s, &creds(), b"\0alice\0wrong", 0),
            Err(BAD_LOGIN.into())
        );
    }

    /// A SCRAM client per RFC 5802, to drive the server through both exchanges.
    fn scram_client(sha512: bool, user: &str, password: &str) -> Result<String, String> {
        let c = creds();
        let mut s = Session::Chosen(if sha512 {
            "SCRAM-SHA-512"
        } else {
            "SCRAM-SHA-256"
        });
        let bare = format!("n={user},r=clientnonce");
        let first = step(&mut s, &c, format!("n,,{bare}").as_bytes(), 0)?;
        let first = String::from_utf8(first).unwrap();
        let nonce = attr(&first, "r").unwrap();
        let salt = b64().decode(attr(&first, "s").unwrap()).unwrap();
        let iterations: u32 = attr(&first, "i").unwrap().parse().unwrap();
        let salted = salted_password(sha512, password.as_bytes(), &salt, iterations);
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{bare},{first},{without_proof}");
        let client_key = mac(sha512, &salted, b"Client Key");
        let signature = mac(sha512, &hash(sha512, &client_key), auth.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let last = step(
            &mut s,
            &c,
            format!("{without_proof},p={}", b64().encode(proof)).as_bytes(),
            0,
        )?;
        let server_sig = mac(
            sha512,
            &mac(sha512, &salted, b"Server Key"),
            auth.as_bytes(),
        );
        assert_eq!(
            String::from_utf8(last).unwrap(),
            format!("v={}", b64().encode(server_sig))
        );
        Ok(user.to_string())
    }

    #[test]
    fn scram_both_hashes() {
        assert_eq!(scram_client(true, "alice", "secret"), Ok("alice".into()));
        assert_eq!(scram_client(false, "alice", "secret"), Ok("alice".into()));
        assert_eq!(scram_client(true, "alice", "nope"), Err(BAD_LOGIN.into()));
        assert_eq!(scram_client(true, "mallory", ""), Err(BAD_LOGIN.into()));
    }

    #[test]
    fn an_iam_token_is_checked_against_its_signature() {
        // Signed as aws-msk-iam-sasl-signer signs (GET https://kafka.us-east-1.amazonaws.com/).
        let (key_id, secret) = ("AKIDEXAMPLE", "wJalrXUtnFEMI");
        let date = "20261203T160251Z";
        let scope = format!("{key_id}/20261203/us-east-1/kafka-cluster/aws4_request");
        let mut params = vec![
            ("Action", "kafka-cluster:Connect".to_string()),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()),
            ("X-Amz-Credential", scope.clone()),
            ("X-Amz-Date", date.into()),
            ("X-Amz-Expires", "900".into()),
            ("X-Amz-SignedHeaders", "host".into()),
        ];
        let query = weir_sigv4::canonical_query(params.iter().map(|(k, v)| (*k, v.as_str())));
        let canonical = format!(
            "GET\n/\n{query}\nhost:kafka.us-east-1.amazonaws.com\n\nhost\n{}",
            weir_sigv4::sha256_hex(b"")
        );
        let key = weir_sigv4::signing_key(secret, "20261203", "us-east-1", "kafka-cluster");
        let to_sign = weir_sigv4::string_to_sign(
            date,
            "20261203/us-east-1/kafka-cluster/aws4_request",
            &canonical,
        );
        params.push((
            "X-Amz-Signature",
            weir_sigv4::hex(&weir_sigv4::hmac(&key, to_sign.as_bytes())),
        ));
        params.push(("User-Agent", "aws-msk-iam-sasl-signer-python/1.0.2".into()));
        let url = format!(
            "https://kafka.us-east-1.amazonaws.com/?{}",
            params
                .iter()
                .map(|(k, v)| format!("{k}={}", weir_sigv4::uri_encode(v, true)))
                .collect::<Vec<_>>()
                .join("&")
        );
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url);
        let message = format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}");
        let signed_at = weir_sigv4::parse_amz_date(date).unwrap();
        let mut with_keys = creds();
        with_keys.keys.insert(key_id.into(), secret.into());
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &with_keys, message.as_bytes(), signed_at + 1_000).is_ok());
        // The wrong secret, and an expired token.
        with_keys.keys.insert(key_id.into(), "other".into());
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &with_keys, message.as_bytes(), signed_at + 1_000).is_err());
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &creds(), message.as_bytes(), signed_at + 901_000).is_err());
        // Without keys, any well-formed token — unless SASL is required.
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &creds(), message.as_bytes(), signed_at).is_ok());
        let strict = Credentials {
            strict: true,
            ..creds()
        };
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &strict, message.as_bytes(), signed_at).is_err());
        assert!(!strict.mechanisms().contains(&"OAUTHBEARER"));
        // The scheme in any case; a token dated too far ahead.
        let lower = message.replace("Bearer ", "bearer  ");
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &creds(), lower.as_bytes(), signed_at).is_ok());
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &creds(), message.as_bytes(), signed_at - 3_600_000).is_err());
        let mut s = Session::Chosen("OAUTHBEARER");
        assert!(step(&mut s, &creds(), b"n,,\x01auth=Bearer nonsense\x01\x01", 0).is_err());
    }
}
