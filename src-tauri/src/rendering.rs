//! How WebKit draws the window. Its default (DMA-BUF) renderer draws with GL; on a
//! machine with no GPU render node that GL is Mesa's llvmpipe, a software rasteriser
//! that, for pages of text and tables, costs the window about 90 MB more than WebKit's
//! shared-memory renderer (measured by `bench-startup`: 318 against 230 MB) and CPU for
//! nothing. So, with no render node, the console asks for the shared-memory renderer.
//! With a GPU, WebKit's default stands; an operator's own choice always does.

/// The variable WebKitGTK reads in each of its processes.
const SHARED_MEMORY_RENDERER: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";

/// Call first in `main`, before any thread starts: it sets a process variable, which
/// WebKit's processes inherit. Returns whether it chose the shared-memory renderer.
pub fn choose_renderer() -> bool {
    let choose = cfg!(target_os = "linux")
        && std::env::var_os(SHARED_MEMORY_RENDERER).is_none()
        && !has_render_node();
    if choose {
        std::env::set_var(SHARED_MEMORY_RENDERER, "1");
    }
    choose
}

/// Whether the kernel offers a GPU render node (`/dev/dri/renderD*`).
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}
