fn main() {
    // Declare our commands so capabilities can allow exactly them (and nothing else).
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "devices_snapshot",
        "default_language",
        "check_tax_code",
        "activation_start",
        "flow_answer",
        "support_bundle",
        "renewal_reminders",
        "renewal_start",
        "take_links",
        "operator_sign_in",
        "operator_sign_out",
        "operator_signed_in",
    ])))
    .expect("tauri build script");
}
