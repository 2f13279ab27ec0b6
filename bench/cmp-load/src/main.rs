//! Concurrent CMP enrollments against tessera-ra: each worker takes an armed request, sends
//! p10cr, checks the answer, confirms with certConf. Prints JSON: throughput, latency
//! percentiles, and what the RA recorded afterwards (nothing lost, nothing duplicated).
//!
//!   cmp-load --server HOST:PORT --token OPERATOR_TOKEN --requests N --concurrency C

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_protocol::cmp::{self, Body, Client};

fn arg(name: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("randomness");
    b
}

fn operator(server: &str, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let req = ureq::request(method, &format!("http://{server}{path}")).set("Authorization", &format!("Bearer {token}"));
    let resp = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    resp.expect("operator API").into_json().expect("JSON")
}

fn post_cmp(server: &str, der: &[u8]) -> Vec<u8> {
    let resp = ureq::post(&format!("http://{server}/.well-known/cmp"))
        .set("Content-Type", "application/pkixcmp")
        .send_bytes(der)
        .expect("CMP POST");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).expect("CMP answer");
    out
}

/// One enrollment: p10cr, then certConf. Returns whether both were accepted.
fn enroll(server: &str, reference: &str, code: &str, csr: &[u8]) -> bool {
    let client = Client {
        reference: reference.as_bytes(),
        secret: code.as_bytes(),
        transaction_id: random(),
        salt: random(),
        profile: None,
    };
    let answer = cmp::parse(&post_cmp(server, &client.p10cr(&random::<16>(), csr))).expect("CMP answer");
    if answer.verify(code.as_bytes()).is_err() {
        return false;
    }
    let Body::CertResponse { accepted: true, certificate: Some(cert), cert_req_id, .. } = answer.body else {
        return false;
    };
    let nonce = answer.sender_nonce.unwrap_or_default();
    let conf =
        cmp::parse(&post_cmp(server, &client.cert_conf(&random::<16>(), &nonce, &cert, cert_req_id))).expect("answer");
    matches!(conf.body, Body::Confirmed)
}

fn main() {
    let (server, token) = (arg("--server"), arg("--token"));
    let n: usize = arg("--requests").parse().expect("N");
    let concurrency: usize = arg("--concurrency").parse().expect("C");
    // One key and CSR for all: the RA's work per enrollment does not depend on the key.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let csr =
        rcgen::CertificateParams::new(Vec::<String>::new()).expect("params").serialize_request(&key).expect("csr");
    let csr = csr.der().to_vec();

    let holder = operator(
        &server,
        &token,
        "POST",
        "/api/v1/operator/holders",
        Some(json!({
            "given_name": "CARICO", "surname": "PROVA", "cf": "PRVCRC80A01H501R", "cf_forced": true
        })),
    )["holder_id"]
        .as_i64()
        .expect("holder");
    let mut work = Vec::new();
    for _ in 0..n {
        let r = operator(
            &server,
            &token,
            "POST",
            "/api/v1/operator/requests",
            Some(json!({"holder_id": holder, "profile": "signature"})),
        );
        let reference = r["reference"].as_str().expect("reference").to_owned();
        let code = r["activation_code"].as_str().expect("code").to_owned();
        let arm = format!("/api/v1/operator/requests/{reference}/arm");
        operator(&server, &token, "POST", &arm, Some(json!({ "activation_code": code })));
        work.push((reference, code));
    }
    let references: Vec<String> = work.iter().map(|(r, _)| r.clone()).collect();
    let queue = Arc::new(Mutex::new(work));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, latencies, failures, server, csr) =
                (queue.clone(), latencies.clone(), failures.clone(), server.clone(), csr.clone());
            std::thread::spawn(move || {
                loop {
                    let Some((reference, code)) = queue.lock().unwrap().pop() else { break };
                    let t = Instant::now();
                    let ok = enroll(&server, &reference, &code, &csr);
                    latencies.lock().unwrap().push(t.elapsed());
                    if !ok {
                        *failures.lock().unwrap() += 1;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let elapsed = start.elapsed();
    let mut l: Vec<Duration> = latencies.lock().unwrap().clone();
    l.sort();
    let pct =
        |p: f64| l.get(((l.len() as f64 * p).ceil() as usize).saturating_sub(1)).map(|d| d.as_secs_f64() * 1000.0);

    // What the RA recorded: every request confirmed with exactly one certificate.
    let rows = operator(&server, &token, "GET", "/api/v1/operator/requests?q=REQ-&limit=10000", None);
    let rows: Vec<&Value> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| references.contains(&r["reference"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let lost = rows.iter().filter(|r| r["issuance"] != "confirmed").count() + (references.len() - rows.len());
    let duplicated = rows.iter().filter(|r| r["certificates"].as_i64().unwrap_or(0) > 1).count();
    println!(
        "{}",
        json!({
            "concurrency": concurrency,
            "enrollments": n,
            "failures": *failures.lock().unwrap(),
            "per_second": n as f64 / elapsed.as_secs_f64(),
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "lost": lost,
            "duplicated": duplicated,
        })
    );
}
