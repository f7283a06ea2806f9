//! The baseline of the start-up and memory benchmark (`tests/rust/bench_startup.rs`): a
//! blank Tauri 2 window, built from this package so that it has the console's very
//! versions, features and release profile, and nothing of the console. Prints when its
//! page has loaded, as the console logs it.
//!
//! cargo build --release -p shipshape-app --example blank_window

fn main() {
    let started = std::time::Instant::now();
    tauri::Builder::default()
        .on_page_load(move |_, load| {
            if load.event() == tauri::webview::PageLoadEvent::Finished {
                println!(
                    "window page loaded, {} ms after start",
                    started.elapsed().as_millis()
                );
            }
        })
        .run(tauri::generate_context!(
            "examples/blank_window/tauri.conf.json"
        ))
        .expect("the blank window could not start");
}
