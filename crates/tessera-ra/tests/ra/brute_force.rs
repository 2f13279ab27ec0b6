//! Brute force under concurrency: five tries mean five, and someone who knows only a
//! reference cannot lock the holder out.

use super::*;

#[test]
fn twenty_five_concurrent_wrong_otps_and_the_right_one_get_at_most_five_checks() {
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "HOME-CODE-0004", "VRDNNA90E50L219L");
    assert_eq!(status, 200);
    let otp = otp_for(&ra, "+393339876543");
    let session = SESSIONS.with(|s| s.borrow()["REQ-0004"].clone());
    let answers: Vec<(bool, u16, String)> = std::thread::scope(|scope| {
        let tries: Vec<_> = (0..26)
            .map(|i| {
                let (ra, session) = (&ra, session.clone());
                let guess = if i == 13 {
                    otp.clone()
                } else {
                    format!("{:06}", (otp.parse::<u32>().unwrap() + 1 + i) % 1_000_000)
                };
                scope.spawn(move || {
                    let body = serde_json::json!({ "otp": guess, "session": session });
                    let (status, body) = post(ra, "/api/v1/activation/REQ-0004/otp", body);
                    (i == 13, status, body["code"].as_str().unwrap_or("armed").to_owned())
                })
            })
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let checked: Vec<_> = answers.iter().filter(|(_, _, code)| code != "request-locked").collect();
    assert!(checked.len() <= 5, "{answers:?}");
    let right = answers.iter().find(|(right, _, _)| *right).unwrap();
    assert!(right.2 == "armed" || right.2 == "request-locked", "{right:?}");
    if right.2 == "armed" {
        assert!(checked.iter().filter(|(_, _, c)| c == "otp-wrong").count() <= 4, "{answers:?}");
    }
}

#[test]
fn thirty_concurrent_wrong_macs_beside_the_right_code_get_at_most_five_checks() {
    let ra = Ra::start();
    ra.csr("x");
    let outs: Vec<(bool, String)> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..31)
            .map(|i| {
                let ra = &ra;
                scope.spawn(move || {
                    let code = if i == 15 { "ABCD-EFGH-JKLM" } else { "WRONG-CODE-XXXX" };
                    let out = ra.p10cr("REQ-0001", code, &ra.path("x.csr"), &ra.path(&format!("x{i}.pem")));
                    (i == 15, text(&out))
                })
            })
            .collect();
        runs.into_iter().map(|t| t.join().unwrap()).collect()
    });
    // Five guesses, whatever the interleaving. The right code's check is given back when it
    // verifies (it is not a failure), so a wrong one may take its place: still five wrong.
    let checked_wrong = outs.iter().filter(|(_, t)| t.contains("badMessageCheck")).count();
    assert!(checked_wrong <= 5, "{checked_wrong} wrong MACs checked");
    // However it went, the holder is not locked out.
    let (_, rows) = operator_call(&ra, "GET", "/api/v1/operator/requests?q=REQ-0001", None);
    assert_eq!(rows[0]["locked"], false, "{rows}");
}

#[test]
fn someone_with_only_a_reference_cannot_spend_the_holders_tries() {
    let ra = Ra::start();
    let (status, _) = start_activation(&ra, "HOME-CODE-0003", "BNCLCU75C15F205O");
    assert_eq!(status, 200);
    // OTPs without the session the SMS opened: refused, nothing tried, nothing counted.
    for junk in ["000000", "111111", "222222", "333333", "444444", "555555"] {
        let body = serde_json::json!({ "otp": junk, "session": "GUESSED-SESSION" });
        let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", body);
        assert_eq!((status, body["code"].as_str()), (403, Some("activation-session-invalid")), "{body}");
    }
    // Nor with a wrong code on the personalisation call.
    for _ in 0..2 {
        let (status, _) =
            post(&ra, "/api/v1/activation/REQ-0003/personalisation", serde_json::json!({"activation_code": "X"}));
        assert_eq!(status, 403);
    }
    // The holder, with the session, still has every try and arms the request.
    let otp = otp_for(&ra, "+393331234567");
    let (status, body) = post(&ra, "/api/v1/activation/REQ-0003/otp", serde_json::json!({ "otp": otp }));
    assert_eq!(status, 200, "{body}");
}
