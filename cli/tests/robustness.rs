//! The `charmlp` binary against bad input, as a user meets it: each case runs the tool as a
//! process and asserts a non-zero exit (not a panic's 101), a message that names the problem,
//! and that no existing output file changed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn names() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/names.txt")
}

/// A fresh, empty directory unique to this test and process.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("charmlp-robust-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn charmlp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_charmlp"))
        .args(args)
        .output()
        .expect("run charmlp")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` (links as their target path) with the length and CRC-32 of its
/// contents — the run's lock file excepted (it names the last holder).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (usize, u32)> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let t = fs::symlink_metadata(&p).unwrap().file_type();
        let sum = |b: &[u8]| (b.len(), charmlp::weights::crc32(b));
        if t.is_dir() {
            out.extend(snapshot(&p));
        } else if t.is_symlink() {
            let target = fs::read_link(&p)
                .unwrap()
                .into_os_string()
                .into_encoded_bytes();
            out.insert(p.clone(), sum(&target));
        } else if e.file_name() != ".charmlp.lock" {
            out.insert(p.clone(), sum(&fs::read(&p).unwrap()));
        }
    }
    out
}

/// The run failed cleanly: non-zero exit that is not a panic, no panic message, and stderr
/// containing every one of `needles`.
#[track_caller]
fn refused(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "exit 0; stderr: {err}");
    assert_ne!(o.status.code(), Some(101), "a panic: {err}");
    assert!(!err.contains("panicked"), "a panic: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr does not say {n:?}: {err}");
    }
}

#[track_caller]
/// The lines a run printed on stdout.
fn stdout_lines(o: &Output) -> Vec<String> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A short training run into `out` (extra flags appended).
fn train(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--data",
        s(&NAMES),
        "--steps",
        "300",
        "--out",
        s(out),
        "--quiet",
        "--samples",
        "0",
    ];
    args.extend_from_slice(extra);
    charmlp(&args)
}

static NAMES: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(names);

#[test]
fn resume_with_stop_after_before_the_checkpoint_is_refused() {
    let d = temp_dir("stop-after");
    let out = d.join("out");
    ok(&train(
        &out,
        &["--stop-after", "200", "--checkpoint-every", "100"],
    ));
    let before = snapshot(&d);
    refused(
        &train(&out, &["--resume", "--stop-after", "100"]),
        &["--stop-after"],
    );
    assert_eq!(snapshot(&d), before, "an output changed");
    // And the run still finishes correctly from where it was.
    ok(&train(&out, &["--resume"]));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_checkpoint_with_an_edited_step_is_refused() {
    let d = temp_dir("edited-step");
    let out = d.join("out");
    ok(&train(&out, &["--stop-after", "200"]));
    let ck = out.join("checkpoint.bin");
    let mut b = fs::read(&ck).unwrap();
    b[charmlp::checkpoint::STEP].copy_from_slice(&100u64.to_le_bytes());
    fs::write(&ck, &b).unwrap();
    let before = snapshot(&d);
    refused(&train(&out, &["--resume"]), &["checkpoint.bin", "CRC-32"]);
    assert_eq!(snapshot(&d), before);
    let _ = fs::remove_dir_all(&d);
}

#[cfg(unix)]
#[test]
fn links_planted_at_output_names_are_replaced_not_followed() {
    let d = temp_dir("symlink");
    let out = d.join("out");
    fs::create_dir_all(&out).unwrap();
    let victim = d.join("victim.txt");
    fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("weights.bin")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("checkpoint.bin.tmp1234")).unwrap();
    // A temporary file a killed run left behind.
    let stale = out.join(".charmlp-tmp.weights.bin.abc123");
    fs::write(&stale, b"half").unwrap();
    ok(&train(&out, &[]));
    assert_eq!(
        fs::read(&victim).unwrap(),
        b"precious",
        "written through a link"
    );
    let meta = fs::symlink_metadata(out.join("weights.bin")).unwrap();
    assert!(meta.file_type().is_file(), "weights.bin is still a link");
    charmlp::WeightsView::parse(&fs::read(out.join("weights.bin")).unwrap()).unwrap();
    assert!(
        !stale.exists(),
        "the stale temporary file was not cleaned up"
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_second_run_on_a_locked_output_directory_is_refused() {
    let d = temp_dir("locked");
    let out = d.join("out");
    ok(&train(&out, &[]));
    // Hold the lock as a running trainer does.
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(out.join(".charmlp.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let before = snapshot(&d);
    refused(&train(&out, &["--overwrite"]), &["another run is using"]);
    assert_eq!(snapshot(&d), before);
    lock.unlock().unwrap();
    ok(&train(&out, &[]));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_fresh_run_does_not_replace_an_interrupted_one() {
    let d = temp_dir("interrupted");
    let out = d.join("out");
    ok(&train(&out, &["--stop-after", "100"]));
    let before = snapshot(&d);
    refused(
        &train(&out, &[]),
        &["interrupted", "--resume", "--overwrite"],
    );
    assert_eq!(snapshot(&d), before);
    // Both flags at once make no sense.
    refused(&train(&out, &["--resume", "--overwrite"]), &["--overwrite"]);
    // --overwrite starts over.
    ok(&train(&out, &["--overwrite"]));
    let c = charmlp::checkpoint::Checkpoint::parse(&fs::read(out.join("checkpoint.bin")).unwrap())
        .map(|c| c.step)
        .unwrap();
    assert_eq!(c, 300);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn flags_out_of_range_are_refused_before_any_work() {
    let d = temp_dir("flags");
    let out = d.join("out");
    for (flags, name) in [
        (&["--lr=-1"][..], "--lr"),
        (&["--lr", "0"], "--lr"),
        (&["--lr", "nan"], "--lr"),
        (&["--lr-after", "inf"], "--lr-after"),
        (&["--batch", "0"], "--batch"),
        (&["--steps", "0"], "--steps"),
        (&["--block", "33"], "--block"),
        (&["--emb", "0"], "--emb"),
        (&["--hidden", "70000"], "--hidden"),
        (&["--stop-after", "0"], "--stop-after"),
    ] {
        refused(&train(&out, flags), &[name]);
        assert!(!out.exists(), "{flags:?}: the output directory was created");
    }
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn outputs_that_cannot_be_written_are_refused_before_training() {
    let d = temp_dir("outputs");
    let file = d.join("a-file");
    fs::write(&file, b"keep me").unwrap();
    // --out is a regular file.
    let o = train(&file, &[]);
    refused(&o, &["a-file", "not a directory"]);
    assert_eq!(fs::read(&file).unwrap(), b"keep me");
    // --json under a regular file, or a directory.
    let out = d.join("out");
    let o = train(&out, &["--json", s(&file.join("r.json"))]);
    refused(&o, &["r.json"]);
    assert!(!out.join("weights.bin").exists(), "trained before failing");
    let o = train(&out, &["--json", s(&d)]);
    refused(&o, &["is a directory"]);
    assert!(!out.join("weights.bin").exists(), "trained before failing");
    // eval's --json too.
    let o = charmlp(&["eval", s(&file), "--json", s(&d)]);
    refused(&o, &["is a directory"]);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn sweep_bad_flags_and_rows_are_refused_before_training() {
    let d = temp_dir("sweep");
    let csv = d.join("t.csv");
    for (flags, name) in [
        (&["--seeds", "0"][..], "--seeds"),
        (&["--steps-scale", "nan"], "--steps-scale"),
        (&["--steps-scale", "-5"], "--steps-scale"),
        (
            &["--seeds", "18446744073709551615", "--steps-scale", "0"],
            "--steps-scale",
        ),
    ] {
        let mut args = vec!["sweep", "--data", s(&NAMES), "--csv", s(&csv)];
        args.extend_from_slice(flags);
        refused(&charmlp(&args), &[name]);
        assert!(!csv.exists());
    }
    // A row with 0 steps among good ones: refused before any row trains.
    let rows = d.join("rows.txt");
    fs::write(&rows, "3 10 2 100 32\n3 10 2 0 32\n").unwrap();
    let o = charmlp(&[
        "sweep",
        "--data",
        s(&NAMES),
        "--rows",
        s(&rows),
        "--csv",
        s(&csv),
    ]);
    refused(&o, &["steps"]);
    assert!(!csv.exists());
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn data_that_is_not_text_names_the_problem() {
    let d = temp_dir("data");
    let out = d.join("out");
    let write = |name: &str, bytes: &[u8]| {
        let p = d.join(name);
        fs::write(&p, bytes).unwrap();
        p
    };
    let utf16: Vec<u8> = "anna\nbob\ncarl\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let cases = [
        (write("utf16.txt", &utf16), vec!["UTF-16"]),
        (write("nul.txt", b"anna\nb\0b\ncarl\n"), vec!["line 2"]),
        (
            write("dot.txt", b"anna\nbo.b\ncarl\n"),
            vec!["line 2", "'.'"],
        ),
        (
            write("latin1.txt", b"anna\ncaf\xe9\n"),
            vec!["line 2", "UTF-8"],
        ),
    ];
    for (path, needles) in cases {
        let o = charmlp(&["train", "--data", s(&path), "--out", s(&out), "--quiet"]);
        refused(&o, &needles);
        assert!(!out.join("weights.bin").exists());
    }
    #[cfg(unix)]
    {
        let o = charmlp(&["train", "--data", "/dev/zero", "--out", s(&out), "--quiet"]);
        refused(&o, &["/dev/zero"]);
        let big = write("big.txt", &b"anna\n".repeat(1000));
        let o = charmlp(&[
            "train",
            "--data",
            s(&big),
            "--max-data-bytes",
            "1000",
            "--out",
            s(&out),
        ]);
        refused(&o, &["big.txt", "1000"]);
    }
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn small_things_are_right() {
    let d = temp_dir("small");
    let out = d.join("out");
    // --quiet prints nothing on stderr for a run that works.
    let o = train(&out, &[]);
    ok(&o);
    assert!(
        o.stderr.is_empty(),
        "--quiet printed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let weights = out.join("weights.bin");
    // The memo of contexts changes nothing: the same names with and without it (and without
    // the table), over more names than one task takes.
    let names = |extra: &[&str]| {
        let mut args = vec!["sample", "--weights", s(&weights), "--count", "5000"];
        args.extend_from_slice(extra);
        let o = charmlp(&args);
        ok(&o);
        o.stdout
    };
    let with_memo = names(&[]);
    assert_eq!(with_memo, names(&["--no-memo"]));
    assert_eq!(with_memo, names(&["--no-memo", "--no-table"]));
    assert_eq!(String::from_utf8(with_memo).unwrap().lines().count(), 5000);
    // --temperature 1e-45: the value as given, not 46 decimals.
    let o = charmlp(&["sample", "--weights", s(&weights), "--temperature", "1e-45"]);
    refused(&o, &["1e-45"]);
    // A weights header announcing 2³² − 1 symbols.
    let mut b = fs::read(&weights).unwrap();
    b[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
    let n = b.len();
    let crc = charmlp::weights::crc32(&b[..n - 4]);
    b[n - 4..].copy_from_slice(&crc.to_le_bytes());
    let bad = d.join("bad.bin");
    fs::write(&bad, &b).unwrap();
    refused(
        &charmlp(&["sample", "--weights", s(&bad)]),
        &["announces 4294967295 symbols", "V = 27"],
    );
    // --json - writes the JSON on stdout (and the summary on stderr).
    let o = charmlp(&["eval", s(&weights), "--data", s(&NAMES), "--json", "-"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is the JSON");
    assert!(v.get("dev_loss").is_some(), "{v}");
    assert!(!d.join("-").exists(), "wrote a file named '-'");
    let o = train(&out, &["--json", "-", "--overwrite"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is the JSON");
    assert_eq!(v.get("steps").and_then(|s| s.as_u64()), Some(300));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn finetune_reports_the_crc_it_writes_and_refuses_bad_lists() {
    let d = temp_dir("finetune");
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/template/weights.bin");
    let list = d.join("list.txt");
    // CRLF and an empty line are accepted (the loader's rules).
    fs::write(&list, "zoe\r\nzara\n\nzed\n").unwrap();
    let out = d.join("tuned.bin");
    let run = |list: &Path, out: &Path| {
        charmlp(&[
            "finetune",
            "--weights",
            s(&weights),
            "--list",
            s(list),
            "--steps",
            "20",
            "--batch",
            "4",
            "--samples",
            "5",
            "--out",
            s(out),
        ])
    };
    let o = run(&list, &out);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("on 13 pairs"), "{stdout}");
    let file = fs::read(&out).unwrap();
    let crc = u32::from_le_bytes(file[file.len() - 4..].try_into().unwrap());
    assert!(
        stdout.contains(&format!("weights file CRC-32: {crc:08x}")),
        "the printed CRC is not the written file's {crc:08x}: {stdout}"
    );
    // The same run again is the same file (seeded).
    let again = d.join("again.bin");
    ok(&run(&list, &again));
    assert_eq!(fs::read(&again).unwrap(), file);

    let before = snapshot(&d);
    fs::write(d.join("accent.txt"), "zoë\n").unwrap();
    refused(&run(&d.join("accent.txt"), &out), &["--list", "ë"]);
    fs::write(d.join("empty.txt"), "\n\r\n").unwrap();
    refused(
        &run(&d.join("empty.txt"), &out),
        &["--list", "at least one name"],
    );
    fs::write(d.join("binary.txt"), b"zo\xffe\n").unwrap();
    refused(&run(&d.join("binary.txt"), &out), &["binary.txt", "UTF-8"]);
    // An output that is a directory is refused before any training.
    fs::create_dir_all(d.join("dir.bin")).unwrap();
    refused(&run(&list, &d.join("dir.bin")), &["dir.bin"]);
    let mut after = snapshot(&d);
    for f in ["accent.txt", "empty.txt", "binary.txt"] {
        after.remove(&d.join(f));
    }
    assert_eq!(after, before, "an output changed");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn int8_files_convert_evaluate_and_sample() {
    let d = temp_dir("int8");
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/template/weights.bin");
    let q = d.join("q.bin");
    ok(&charmlp(&[
        "convert",
        "--quantize",
        "int8",
        s(&weights),
        s(&q),
    ]));
    let file = fs::read(&q).unwrap();
    assert!(charmlp::int8::is_int8(&file));
    charmlp::int8::QuantView::parse(&file).unwrap();
    let o = charmlp(&["eval", s(&q), "--data", s(&NAMES), "--json", "-"]);
    ok(&o);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["dtype"], "int8");
    let dev = r["dev_loss"].as_f64().unwrap();
    assert!(dev > 1.5 && dev < 2.5, "{dev}");
    // The tool's names are the library's (name i of seed 42 from its own stream), one thread or many.
    let o = charmlp(&[
        "sample",
        "--weights",
        s(&q),
        "--count",
        "50",
        "--kernel",
        "scalar",
    ]);
    ok(&o);
    let names = stdout_lines(&o);
    let view = charmlp::int8::QuantView::parse(&file).unwrap();
    let vocab = charmlp::VocabBuf::from_symbols(view.vocab_str().chars()).unwrap();
    let smp = charmlp::int8::QuantSampler::new(
        view,
        vocab.view(),
        charmlp::Kernels::best(),
        42,
        charmlp::SampleConfig::default(),
    )
    .unwrap();
    let mut scratch = charmlp::int8::QuantVecs::new(view.shape());
    for (i, n) in names.iter().enumerate() {
        let mut want = String::new();
        smp.name(i as u64, &mut scratch.view(), |c| want.push(c))
            .unwrap();
        assert_eq!(n, &want, "name {i}");
    }
    // --prefix: the library's prefixed names; a prefix outside the vocabulary is refused.
    let o = charmlp(&[
        "sample",
        "--weights",
        s(&q),
        "--count",
        "20",
        "--prefix",
        "ka",
    ]);
    ok(&o);
    let names = stdout_lines(&o);
    assert_eq!(names.len(), 20);
    for (i, n) in names.iter().enumerate() {
        let mut want = String::new();
        smp.name_prefixed(i as u64, "ka", &mut scratch.view(), |c| want.push(c))
            .unwrap();
        assert_eq!(n, &want, "prefixed name {i}");
        assert!(n.starts_with("ka"), "{n}");
    }
    let before = snapshot(&d);
    refused(
        &charmlp(&["sample", "--weights", s(&q), "--prefix", "k#"]),
        &["#"],
    );
    // What int8 sampling does not take, and files that are not f32 in.
    refused(
        &charmlp(&[
            "sample",
            "--weights",
            s(&q),
            "--table",
            s(&weights.with_extension("table")),
        ]),
        &["--table", "int8"],
    );
    refused(
        &charmlp(&["convert", "--quantize", "int8", s(&q), s(&d.join("qq.bin"))]),
        &["q.bin", "version 2"],
    );
    refused(
        &charmlp(&[
            "convert",
            "--quantize",
            "int8",
            s(&weights),
            s(&d.join("q.safetensors")),
        ]),
        &["--quantize"],
    );
    let mut bad = file.clone();
    bad[100] ^= 1;
    fs::write(d.join("bad.bin"), &bad).unwrap();
    refused(
        &charmlp(&["sample", "--weights", s(&d.join("bad.bin"))]),
        &["bad.bin", "CRC-32"],
    );
    refused(
        &charmlp(&["eval", s(&d.join("bad.bin"))]),
        &["bad.bin", "CRC-32"],
    );
    let mut after = snapshot(&d);
    after.remove(&d.join("bad.bin"));
    assert_eq!(after, before, "an output changed");
    let _ = fs::remove_dir_all(&d);
}
