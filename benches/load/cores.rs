//! Runtimes pinned to one core each, and the CPU time their threads use.
//!
//! The server and the load get a core of their own, so that the figures
//! say what one core of server does, and so that the two do not steal
//! time from each other in ways that differ from route to route. Each
//! thread's time on the CPU is read from `/proc/self/task/<tid>/schedstat`
//! (nanoseconds), which makes "CPU per request" a second figure beside
//! throughput, and one that a busy neighbour moves much less.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::runtime::{Builder, Runtime};

/// A tokio runtime with one worker, pinned to one core, that knows its
/// threads.
pub struct Pinned {
    pub runtime: Runtime,
    threads: Arc<Mutex<Vec<String>>>,
}

impl Pinned {
    /// A runtime named `name` whose threads all run on `core` (when the
    /// machine has it; unpinned otherwise).
    pub fn new(name: &str, core: usize) -> Self {
        let threads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&threads);
        let id = core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.id == core);
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .on_thread_start(move || {
                if let Some(id) = id {
                    core_affinity::set_for_current(id);
                }
                if let Ok(path) = std::fs::read_link("/proc/thread-self") {
                    let path = format!("/proc/{}/schedstat", path.display());
                    seen.lock().expect("threads").push(path);
                }
            })
            .build()
            .expect("runtime");
        Self { runtime, threads }
    }

    /// Nanoseconds on the CPU so far, per live thread.
    pub fn cpu(&self) -> CpuTime {
        let threads = self.threads.lock().expect("threads");
        let per_thread = threads
            .iter()
            .filter_map(|path| {
                let stat = std::fs::read_to_string(path).ok()?;
                let ns = stat.split_whitespace().next()?.parse().ok()?;
                Some((path.clone(), ns))
            })
            .collect();
        CpuTime(per_thread)
    }
}

/// A reading of [`Pinned::cpu`].
pub struct CpuTime(HashMap<String, u64>);

impl CpuTime {
    /// Nanoseconds used between `earlier` and this reading, by the threads
    /// alive at both.
    pub fn since(&self, earlier: &CpuTime) -> u64 {
        self.0
            .iter()
            .map(|(thread, ns)| ns.saturating_sub(*earlier.0.get(thread).unwrap_or(&0)))
            .sum()
    }
}
