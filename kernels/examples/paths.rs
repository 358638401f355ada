//! Prints the kernel paths this CPU (and this build) can run, and the one `Kernels::best()`
//! picks: CI prints it next to the kernel tests, which exercise every one of these paths.

use charmlp_kernels::{Kernels, Path};

fn main() {
    let all: Vec<&str> = Path::ALL.iter().map(|p| p.name()).collect();
    let run: Vec<&str> = Kernels::all_supported().map(|k| k.path().name()).collect();
    println!("kernel paths known: {}", all.join(", "));
    println!(
        "kernel paths this CPU runs (all tested): {}",
        run.join(", ")
    );
    println!("Kernels::best(): {}", Kernels::best().path().name());
    let int8: Vec<String> = Kernels::all_supported()
        .map(|k| format!("{} = {}", k.path().name(), k.int8_kernel()))
        .collect();
    println!("int8 matvec kernel per path: {}", int8.join(", "));
}
