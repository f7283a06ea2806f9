//! How WebKit runs the window, chosen before it starts (its processes inherit this
//! process's variables); a variable the operator has set always wins.
//!
//! - **Renderer.** WebKit's default (DMA-BUF) renderer draws with GL; on a machine with
//!   no GPU render node that GL is Mesa's llvmpipe, a software rasteriser that, for
//!   pages of text and tables, costs the window about 90 MB more than WebKit's
//!   shared-memory renderer (`bench-startup`: 318 against 230 MB) and CPU for nothing.
//!   So, with no render node, the console asks for the shared-memory renderer.
//! - **No GL in this process** when there is no render node: GTK's GLX probe at start
//!   and WebKit's search for the GPU's device node (which initialises EGL here just to
//!   ask it) would each load Mesa's software driver and LLVM into the console, about
//!   24 MB, for a window whose pages the web process draws into shared memory. GTK is
//!   told not to use GL, and WebKit is named "no device" (`/dev/null`), which it looks
//!   up without EGL and finds to be none, the answer EGL would have given.
//!   The web process still loads Mesa and LLVM (about 26 MB of its PSS): WebKitGTK
//!   2.50 composites every page with GL and sets up EGL as it creates the page, whatever
//!   the policy (`WEBKIT_DISABLE_COMPOSITING_MODE`, the `never` hardware-acceleration
//!   policy and the compositing features off were each tried: Mesa was loaded).
//! - **No JIT.** The window shows what hosts print (logs, command output, commit
//!   messages), which Shipshape does not trust; its own script is ~190 KB of UI.
//!   Without JavaScriptCore's JIT compilers no machine code is generated from anything
//!   the page runs, the web process is smaller (about 8 MB at rest, 14-23 MB less while
//!   following a fast log), and the cost is CPU only where scripts are busy: following
//!   900 lines/s, the web process used 3.0 s of CPU in 20 s instead of 2.0-2.1.

/// The variable WebKitGTK reads in each of its processes.
const SHARED_MEMORY_RENDERER: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
/// GTK's GL switch (`disable`: no GLX or EGL context, cairo draws the window).
const GTK_GL: &str = "GDK_GL";
/// The GPU device WebKit hands its web process; set, WebKit does not ask EGL for it.
const RENDER_DEVICE: &str = "WEBKIT_WEB_RENDER_DEVICE_FILE";
/// JavaScriptCore's option, read from the environment by the web process.
const JIT: &str = "JSC_useJIT";

/// What [`choose`] set.
pub struct Choices {
    /// The shared-memory renderer and no GL in this process, for want of a GPU render
    /// node.
    pub shared_memory: bool,
    /// Scripts run by JavaScriptCore's interpreter alone.
    pub no_jit: bool,
}

/// Call first in `main`, before any thread starts: it sets process variables.
pub fn choose() -> Choices {
    let unset = |name: &str| std::env::var_os(name).is_none();
    let shared_memory =
        cfg!(target_os = "linux") && unset(SHARED_MEMORY_RENDERER) && !has_render_node();
    if shared_memory {
        std::env::set_var(SHARED_MEMORY_RENDERER, "1");
        for (name, value) in [(GTK_GL, "disable"), (RENDER_DEVICE, "/dev/null")] {
            if unset(name) {
                std::env::set_var(name, value);
            }
        }
    }
    let no_jit = unset(JIT);
    if no_jit {
        std::env::set_var(JIT, "0");
    }
    Choices {
        shared_memory,
        no_jit,
    }
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
