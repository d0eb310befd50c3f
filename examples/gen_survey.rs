//! Generator of large synthetic surveys (and codings) for benchmarks.
//!
//! ```text
//! cargo run --release --example gen_survey -- --respondents N --out FILE.csv
//!     [--codebook FILE] [--codings FILE] [--ratings FILE]
//!     [--coders 3] [--codes 10] [--missing 0.05] [--seed 1]
//! ```
//!
//! - The survey: an `id` column (`R0000001`, ...), 16 variables (integers, decimals, categorical
//!   variables with 2 to 8 levels, one ISO 8601 date) and two open answers, `answer_a` and
//!   `answer_b`. About 300 bytes a row: 1,000,000 respondents make about 300 MB.
//! - `--codebook FILE`: a flat codebook of `--codes` codes (`code01`, ...), shortcuts 1-9 on the
//!   first nine.
//! - `--codings FILE`: codings by `--coders` coders (`c1`, `c2`, ...). Each coder rates every
//!   non-empty `answer_a` (empty answers are not offered for coding) except a `--missing` share,
//!   chosen independently per coder and answer. The coders share a latent truth per answer (each
//!   code applies with its own prevalence); for each (answer, code), a coder's decision is an
//!   independent draw instead of the truth 10% of the time. A rated answer with no code gets one
//!   row with an empty code. All codings are whole-answer codings.
//! - `--ratings FILE`: the same decisions as a plain-text matrix for Python's
//!   `krippendorff.alpha(reliability_data=numpy.loadtxt(FILE), level_of_measurement="nominal")`
//!   (the pooled alpha): one line per coder, one space-separated value per (unit, code) pair,
//!   unit-major, `1` applied, `0` rated without it, `nan` not rated. Units are the answers rated
//!   by at least one coder, in survey order.
//!
//! Everything streams through buffered writers with constant memory, and the output depends
//! only on the arguments (ChaCha8 with `--seed`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const USAGE: &str = "usage: gen_survey --respondents N --out FILE.csv [--codebook FILE] \
[--codings FILE] [--ratings FILE] [--coders K (3)] [--codes C (10)] [--missing SHARE (0.05)] \
[--seed S (1)]";

struct Args {
    respondents: u64,
    out: PathBuf,
    codebook: Option<PathBuf>,
    codings: Option<PathBuf>,
    ratings: Option<PathBuf>,
    coders: usize,
    codes: usize,
    missing: f64,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut respondents = None;
    let mut out = None;
    let mut args = Args {
        respondents: 0,
        out: PathBuf::new(),
        codebook: None,
        codings: None,
        ratings: None,
        coders: 3,
        codes: 10,
        missing: 0.05,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("{flag}: {what}, got {value:?}");
        match flag.as_str() {
            "--respondents" => {
                respondents = Some(value.parse().map_err(|_| bad("expected a whole number"))?)
            }
            "--out" => out = Some(PathBuf::from(&value)),
            "--codebook" => args.codebook = Some(PathBuf::from(&value)),
            "--codings" => args.codings = Some(PathBuf::from(&value)),
            "--ratings" => args.ratings = Some(PathBuf::from(&value)),
            "--coders" => {
                args.coders = value.parse().map_err(|_| bad("expected a whole number"))?;
                if args.coders == 0 {
                    return Err(bad("expected at least 1"));
                }
            }
            "--codes" => {
                args.codes = value.parse().map_err(|_| bad("expected a whole number"))?;
                if args.codes == 0 {
                    return Err(bad("expected at least 1"));
                }
            }
            "--missing" => {
                args.missing = value.parse().map_err(|_| bad("expected a number"))?;
                if !(0.0..1.0).contains(&args.missing) {
                    return Err(bad("expected a share in [0, 1)"));
                }
            }
            "--seed" => args.seed = value.parse().map_err(|_| bad("expected a whole number"))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    args.respondents = respondents.ok_or("--respondents is required")?;
    args.out = out.ok_or("--out is required")?;
    Ok(args)
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const SEXES: [&str; 3] = ["female", "male", "other"];
const REGIONS: [&str; 8] = [
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
];
const EDUCATION: [&str; 6] = [
    "primary",
    "secondary",
    "vocational",
    "bachelor",
    "master",
    "doctorate",
];
const GROUPS: [&str; 2] = ["control", "treatment"];
const EMPLOYMENT: [&str; 5] = [
    "employed",
    "self-employed",
    "unemployed",
    "retired",
    "student",
];
const MARITAL: [&str; 6] = [
    "single",
    "married",
    "partnered",
    "divorced",
    "widowed",
    "separated",
];
const CHANNELS: [&str; 4] = ["web", "phone", "paper", "in-person"];

const HEADER: &str = "id,age,sex,region,education,income,score_a,score_b,satisfaction,group,\
visits,weight_kg,employment,marital,start_date,tenure_years,channel,answer_a,answer_b\n";

const OPENERS: [&str; 10] = [
    "",
    "",
    "",
    "Overall, ",
    "Honestly, ",
    "To be fair, ",
    "This time ",
    "As always, ",
    "I have to say ",
    "On my last visit ",
];
const SUBJECTS: [&str; 16] = [
    "the staff",
    "the nurse",
    "my doctor",
    "the reception team",
    "the online booking",
    "the pharmacist",
    "the therapist",
    "the follow-up call",
    "the new app",
    "the waiting area",
    "the café downstairs",
    "the physiotherapist",
    "the night shift",
    "the letter with my results",
    "Dr. Müller",
    "the interpreter",
];
const PRAISE: [&str; 14] = [
    "was friendly and took time to explain everything",
    "answered all my questions clearly",
    "made me feel welcome from the start",
    "was quick and efficient",
    "listened carefully to my concerns",
    "followed up within a week",
    "was clean and quiet",
    "explained the side effects in plain language",
    "remembered my name and my history",
    "worked without any problems",
    "was much better than last year",
    "treated my father with real patience",
    "sorted out the billing mistake in one call",
    "gave me a \"plan B\" in case the pain came back",
];
const PRAISE_TAILS: [&str; 14] = [
    ".",
    ".",
    ". I would recommend it to friends.",
    ". The appointment started on time.",
    ". Parking was easy this time.",
    ". It made a real difference for my family.",
    ". Thank you!",
    ". Nothing to complain about.",
    ". Five stars.",
    ". Keep it up 🙂",
    ". My mother said the same.",
    ". I felt like a person, not a number.",
    ". The whole visit took less than an hour.",
    ".\nSecond visit was just as good.",
];
const COMPLAINTS: [&str; 14] = [
    "should open earlier in the morning",
    "could be more flexible about cancellations",
    "took too long to call back",
    "needs more people on weekends",
    "was hard to find from the car park",
    "should send reminders by text",
    "kept me waiting for forty minutes",
    "gave me conflicting information",
    "could explain the costs up front",
    "was too loud to talk in private",
    "asked for the same forms three times",
    "did not work on my old phone",
    "closed before I could get there after work",
    "used a lot of jargon",
];
const COMPLAINT_TAILS: [&str; 10] = [
    ".",
    ".",
    ". Otherwise fine.",
    ". Please fix this.",
    ". It has been like this for years.",
    ". A small thing, but it matters.",
    ". The \"express\" line was not express at all.",
    ", which is a shame.",
    ". Otherwise no complaints.",
    ", but the staff did their best.",
];

// ---------------------------------------------------------------------------------------------
// Helpers

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// `true` with probability `p`, from one u32 draw (fast path for the hot loops).
fn threshold(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * 4_294_967_296.0) as u64
}

fn chance(rng: &mut ChaCha8Rng, t: u64) -> bool {
    u64::from(rng.random::<u32>()) < t
}

fn is_empty_answer(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "n/a" | "na" | "-" | "." | "?"
    )
}

/// Appends a CSV field, quoted when it needs to be.
fn push_field(buf: &mut Vec<u8>, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buf.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field.as_bytes());
    }
}

/// Appends a non-negative fixed-point number with `digits` decimals.
fn push_fixed(buf: &mut Vec<u8>, scaled: u64, digits: u32) {
    let f = 10u64.pow(digits);
    let _ = write!(
        buf,
        "{}.{:0w$}",
        scaled / f,
        scaled % f,
        w = digits as usize
    );
}

/// (year, month, day) from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn capitalise_into(out: &mut String, s: &str) {
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        out.extend(c.to_uppercase());
        out.push_str(chars.as_str());
    }
}

fn answer_a(rng: &mut ChaCha8Rng, out: &mut String) {
    out.clear();
    let r: u32 = rng.random_range(0..1000);
    if r < 30 {
        return;
    }
    if r < 35 {
        out.push_str("N/A");
        return;
    }
    if r < 38 {
        out.push('-');
        return;
    }
    let opener = pick(rng, &OPENERS);
    if opener.is_empty() {
        capitalise_into(out, pick(rng, &SUBJECTS));
    } else {
        out.push_str(opener);
        out.push_str(pick(rng, &SUBJECTS));
    }
    out.push(' ');
    out.push_str(pick(rng, &PRAISE));
    if rng.random_bool(0.45) {
        out.push_str(", and ");
        out.push_str(pick(rng, &SUBJECTS));
        out.push(' ');
        out.push_str(pick(rng, &PRAISE));
    }
    out.push_str(pick(rng, &PRAISE_TAILS));
}

fn answer_b(rng: &mut ChaCha8Rng, out: &mut String) {
    out.clear();
    let r: u32 = rng.random_range(0..1000);
    if r < 80 {
        return;
    }
    if r < 90 {
        out.push_str("n/a");
        return;
    }
    if r < 120 {
        out.push_str(pick(
            rng,
            &["Nothing.", "Nothing, all good.", "No idea", "None"],
        ));
        return;
    }
    capitalise_into(out, pick(rng, &SUBJECTS));
    out.push(' ');
    out.push_str(pick(rng, &COMPLAINTS));
    out.push_str(pick(rng, &COMPLAINT_TAILS));
    if rng.random_bool(0.3) {
        out.push(' ');
        capitalise_into(out, pick(rng, &SUBJECTS));
        out.push(' ');
        out.push_str(pick(rng, &COMPLAINTS));
        out.push('.');
    }
}

/// Appends the 16 variables (without the id), each followed by a comma.
fn push_variables(rng: &mut ChaCha8Rng, buf: &mut Vec<u8>) {
    let age: u32 = rng.random_range(18..=90);
    let _ = write!(buf, "{age},");
    let sex = match rng.random_range(0..100) {
        0..51 => 0,
        51..98 => 1,
        _ => 2,
    };
    buf.extend_from_slice(SEXES[sex].as_bytes());
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &REGIONS).as_bytes());
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &EDUCATION).as_bytes());
    buf.push(b',');
    // Income: about 2% missing.
    if rng.random_range(0..50) != 0 {
        let income: u32 =
            12_000 + rng.random_range(0..40_000) + rng.random_range(0..40_000) * (age / 30);
        let _ = write!(buf, "{income}");
    }
    buf.push(b',');
    push_fixed(buf, rng.random_range(0..=10_000), 2);
    buf.push(b',');
    push_fixed(buf, rng.random_range(0..=500), 1);
    buf.push(b',');
    if rng.random_range(0..100) != 0 {
        let _ = write!(buf, "{}", rng.random_range(1..=7));
    }
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &GROUPS).as_bytes());
    buf.push(b',');
    let visits: u32 = rng.random_range(0..=12) * rng.random_range(0..=3);
    let _ = write!(buf, "{visits},");
    push_fixed(buf, rng.random_range(450..=1300), 1);
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &EMPLOYMENT).as_bytes());
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &MARITAL).as_bytes());
    buf.push(b',');
    // 2015-01-01 .. 2024-12-31.
    let (y, m, d) = civil_from_days(16_436 + rng.random_range(0..3_653));
    let _ = write!(buf, "{y:04}-{m:02}-{d:02},");
    push_fixed(buf, rng.random_range(0..=400), 1);
    buf.push(b',');
    buf.extend_from_slice(pick(rng, &CHANNELS).as_bytes());
    buf.push(b',');
}

// ---------------------------------------------------------------------------------------------
// Outputs

fn create(path: &Path) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

fn code_name(j: usize) -> String {
    format!("code{:02}", j + 1)
}

/// A readable colour for code `j`: hues spread by the golden angle, medium lightness.
fn color(j: usize) -> String {
    let h = (j as f64 * 137.507_764) % 360.0;
    let (s, l) = (0.55, 0.45);
    let c = (1.0 - (2.0 * l - 1.0_f64).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round() as u8;
    format!("#{:02X}{:02X}{:02X}", to(r), to(g), to(b))
}

fn write_codebook(path: &Path, codes: usize) -> std::io::Result<()> {
    let mut w = create(path)?;
    w.write_all(b"name,parent,description,inclusion,exclusion,example,color,shortcut\n")?;
    for j in 0..codes {
        let shortcut = if j < 9 {
            (j + 1).to_string()
        } else {
            String::new()
        };
        writeln!(
            w,
            "{},,Synthetic benchmark code {}.,Answers the coders judged to show theme {}.,,,{},{}",
            code_name(j),
            j + 1,
            j + 1,
            color(j),
            shortcut
        )?;
    }
    w.flush()
}

/// The ratings file and one part file per coder (one line each), joined at the end.
struct Ratings {
    path: PathBuf,
    parts: Vec<(PathBuf, BufWriter<File>)>,
}

/// Coding simulation state: thresholds and the writers of the codings and ratings files.
struct Coding {
    rng: ChaCha8Rng,
    codes: Vec<String>,
    coders: Vec<String>,
    truth_t: Vec<u64>,
    missing_t: u64,
    deviate_t: u64,
    codings: Option<BufWriter<File>>,
    /// One part file per coder; joined into the ratings file at the end.
    ratings: Option<Ratings>,
    units: u64,
    rows: u64,
    // Scratch.
    truth: Vec<bool>,
    decisions: Vec<Option<Vec<bool>>>,
}

impl Coding {
    fn new(args: &Args) -> std::io::Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        rng.set_stream(1);
        // Prevalences from 30% down, at least 2%.
        let truth_t = (0..args.codes)
            .map(|j| threshold((0.30 * 0.8f64.powi(j as i32)).max(0.02)))
            .collect();
        let codings = match &args.codings {
            Some(p) => {
                let mut w = create(p)?;
                w.write_all(b"respondent,question,coder,code,start,end,memo\n")?;
                Some(w)
            }
            None => None,
        };
        let ratings = match &args.ratings {
            Some(p) => {
                let mut parts = Vec::new();
                for k in 0..args.coders {
                    let mut name = p.as_os_str().to_owned();
                    name.push(format!(".part{}", k + 1));
                    let part = PathBuf::from(name);
                    parts.push((part.clone(), create(&part)?));
                }
                Some(Ratings {
                    path: p.clone(),
                    parts,
                })
            }
            None => None,
        };
        Ok(Coding {
            rng,
            codes: (0..args.codes).map(code_name).collect(),
            coders: (1..=args.coders).map(|k| format!("c{k}")).collect(),
            truth_t,
            missing_t: threshold(args.missing),
            deviate_t: threshold(0.10),
            codings,
            ratings,
            units: 0,
            rows: 0,
            truth: vec![false; args.codes],
            decisions: vec![None; args.coders],
        })
    }

    /// Simulates the coders on one offered answer.
    fn answer(&mut self, id: &str) -> std::io::Result<()> {
        let rng = &mut self.rng;
        for (j, t) in self.truth_t.iter().enumerate() {
            self.truth[j] = chance(rng, *t);
        }
        let mut any_rated = false;
        for k in 0..self.coders.len() {
            if chance(rng, self.missing_t) {
                self.decisions[k] = None;
                continue;
            }
            any_rated = true;
            let decisions = self.decisions[k].get_or_insert_with(Vec::new);
            decisions.clear();
            for (j, t) in self.truth_t.iter().enumerate() {
                let v = if chance(rng, self.deviate_t) {
                    chance(rng, *t)
                } else {
                    self.truth[j]
                };
                decisions.push(v);
            }
        }
        if !any_rated {
            return Ok(());
        }
        self.units += 1;
        for (k, coder) in self.coders.iter().enumerate() {
            let Some(decisions) = &self.decisions[k] else {
                continue;
            };
            if let Some(w) = &mut self.codings {
                let mut any = false;
                for (j, &v) in decisions.iter().enumerate() {
                    if v {
                        writeln!(w, "{id},answer_a,{coder},{},,,", self.codes[j])?;
                        self.rows += 1;
                        any = true;
                    }
                }
                if !any {
                    writeln!(w, "{id},answer_a,{coder},,,,")?;
                    self.rows += 1;
                }
            }
        }
        if let Some(Ratings { parts, .. }) = &mut self.ratings {
            let first = self.units == 1;
            for (k, (_, w)) in parts.iter_mut().enumerate() {
                for j in 0..self.codes.len() {
                    if !(first && j == 0) {
                        w.write_all(b" ")?;
                    }
                    w.write_all(match &self.decisions[k] {
                        None => b"nan",
                        Some(d) if d[j] => b"1",
                        Some(_) => b"0",
                    })?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<(u64, u64)> {
        if let Some(mut w) = self.codings {
            w.flush()?;
        }
        if let Some(Ratings { path, parts }) = self.ratings {
            let mut out = create(&path)?;
            for (part, w) in parts {
                drop(w.into_inner().map_err(|e| e.into_error())?);
                std::io::copy(&mut File::open(&part)?, &mut out)?;
                out.write_all(b"\n")?;
                std::fs::remove_file(&part)?;
            }
            out.flush()?;
        }
        Ok((self.units, self.rows))
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    rng.set_stream(0);
    let mut survey = create(&args.out)?;
    survey.write_all(HEADER.as_bytes())?;
    let simulate = args.codings.is_some() || args.ratings.is_some();
    let mut coding = if simulate {
        Some(Coding::new(args)?)
    } else {
        None
    };
    let width = args.respondents.to_string().len().max(7);
    let mut row: Vec<u8> = Vec::with_capacity(1024);
    let mut id = String::new();
    let (mut a, mut b) = (String::new(), String::new());
    let mut bytes = HEADER.len() as u64;
    for i in 1..=args.respondents {
        row.clear();
        id.clear();
        {
            use std::fmt::Write as _;
            let _ = write!(id, "R{i:0width$}");
        }
        row.extend_from_slice(id.as_bytes());
        row.push(b',');
        push_variables(&mut rng, &mut row);
        answer_a(&mut rng, &mut a);
        answer_b(&mut rng, &mut b);
        push_field(&mut row, &a);
        row.push(b',');
        push_field(&mut row, &b);
        row.push(b'\n');
        survey.write_all(&row)?;
        bytes += row.len() as u64;
        if let Some(c) = &mut coding
            && !is_empty_answer(&a)
        {
            c.answer(&id)?;
        }
    }
    survey.flush()?;
    eprintln!(
        "survey: {} respondents, {} bytes ({:.0} bytes a row) -> {}",
        args.respondents,
        bytes,
        bytes as f64 / args.respondents.max(1) as f64,
        args.out.display()
    );
    if let Some(path) = &args.codebook {
        write_codebook(path, args.codes)?;
        eprintln!("codebook: {} codes -> {}", args.codes, path.display());
    }
    if let Some(c) = coding {
        let (units, rows) = c.finish()?;
        if let Some(p) = &args.codings {
            eprintln!(
                "codings: {rows} rows over {units} answers -> {}",
                p.display()
            );
        }
        if let Some(p) = &args.ratings {
            eprintln!(
                "ratings: {} coders x {} values -> {}",
                args.coders,
                units * args.codes as u64,
                p.display()
            );
        }
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_survey: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_survey: {e}");
            ExitCode::FAILURE
        }
    }
}
