//! `analyze --plot` draws the same numbers the table and JSON give, as bars a researcher can take
//! in at a glance: percent coded per level for a categorical variable, the means with and without
//! each code for a numeric one, frequencies without a variable.

mod common;

fn bar_cells(line: &str) -> f64 {
    let bar: String = line.split('│').nth(1).unwrap().chars().take(40).collect();
    bar.chars()
        .map(|c| match c {
            '█' => 1.0,
            '▏' => 1.0 / 8.0,
            '▎' => 2.0 / 8.0,
            '▍' => 3.0 / 8.0,
            '▌' => 4.0 / 8.0,
            '▋' => 5.0 / 8.0,
            '▊' => 6.0 / 8.0,
            '▉' => 7.0 / 8.0,
            _ => 0.0,
        })
        .sum()
}

#[test]
fn the_bars_by_level_are_the_reports_percentages() {
    let s = common::demo();
    let plot = s.stdout(&["analyze", "--by", "orientation", "--coder", "ana", "--plot"]);
    let json = s.json(&[
        "analyze",
        "--by",
        "orientation",
        "--coder",
        "ana",
        "--format",
        "json",
    ]);
    let lines: Vec<&str> = plot.lines().collect();
    for code in json["codes"].as_array().unwrap() {
        let name = code["code"].as_str().unwrap();
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{name} · ")))
            .unwrap_or_else(|| panic!("no chart for {name}:\n{plot}"));
        for (i, level) in code["levels"].as_array().unwrap().iter().enumerate() {
            let line = lines[at + 1 + i];
            assert!(
                line.trim_start().starts_with(level.as_str().unwrap()),
                "{line}"
            );
            let rated = code["rated"][i].as_f64().unwrap();
            let coded = code["coded"][i].as_f64().unwrap();
            let percent = 100.0 * coded / rated;
            assert!(
                line.contains(&format!("{percent:.1}% ({coded} of {rated})")),
                "{line}"
            );
            // 40 cells are 100%: the bar is the percentage to the nearest eighth of a cell.
            assert!(
                (bar_cells(line) - percent * 0.4).abs() <= 1.0 / 16.0 + 1e-9,
                "{line}"
            );
        }
    }
}

#[test]
fn numeric_variables_and_frequencies_are_plotted_too() {
    let s = common::demo();
    let plot = s.stdout(&[
        "analyze",
        "--by",
        "years_experience",
        "--coder",
        "ana",
        "--plot",
    ]);
    let json = s.json(&[
        "analyze",
        "--by",
        "years_experience",
        "--coder",
        "ana",
        "--format",
        "json",
    ]);
    let first = &json["codes"][0];
    let mean = first["mean_coded"].as_f64().unwrap();
    assert!(plot.contains(&format!("{mean:.2}")), "{plot}");
    let freq = s.stdout(&["analyze", "--coder", "ana", "--plot"]);
    assert!(freq.contains("52 respondents rated"), "{freq}");
    // A plot is not a file format: asking for both is a usage error (exit 2).
    let out = s
        .lacrima(&["analyze", "--coder", "ana", "--plot", "--format", "json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
