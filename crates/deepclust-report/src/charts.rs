//! SVG charts drawn with plotters: line charts of training curves and scatter plots of the
//! 2-D map. SVG keeps the text as text, so the browser renders it with its own fonts.

use crate::error::{ReportError, Result};
use crate::images::bounds;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour of category `i`: Tableau's 20 colours (strong ones first), then evenly spaced
/// hues for more categories, so up to 20 clusters get distinct, named-palette colours.
pub fn category_colour(i: usize) -> [u8; 3] {
    const TAB20: [[u8; 3]; 20] = [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
        [174, 199, 232],
        [255, 187, 120],
        [152, 223, 138],
        [255, 152, 150],
        [197, 176, 213],
        [196, 156, 148],
        [247, 182, 210],
        [199, 199, 199],
        [219, 219, 141],
        [158, 218, 229],
    ];
    if let Some(c) = TAB20.get(i) {
        return *c;
    }
    // Golden-angle hue steps keep neighbouring indices far apart on the colour wheel.
    let hue = (i as f64 * 137.508) % 360.0;
    hsl_to_rgb(hue, 0.65, 0.5)
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
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
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

/// `#rrggbb` of a colour, for CSS.
pub fn css_colour(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub colour: [u8; 3],
    /// `(x, y)`; non-finite values are left out.
    pub points: Vec<(f64, f64)>,
}

/// Chart size in pixels (the page scales it to the column width).
pub const CHART_SIZE: (u32, u32) = (560, 320);

fn chart_error(name: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Chart {
        name: name.to_string(),
        message,
    }
}

/// A line chart as SVG text. `y_floor` forces the y range to include that value (0 for
/// fractions and scores, so that small changes are not blown up).
pub fn line_chart(
    name: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
    y_floor: Option<f64>,
) -> Result<String> {
    let err = chart_error(name);
    let finite: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        return Err(err("no finite values to plot".to_string()));
    }
    let (mut x0, mut x1, mut y0, mut y1) = finite.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |b, &(x, y)| (b.0.min(x), b.1.max(x), b.2.min(y), b.3.max(y)),
    );
    if let Some(floor) = y_floor {
        y0 = y0.min(floor);
        y1 = y1.max(floor);
    }
    if x1 - x0 < 1e-12 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9 * y1.abs().max(1.0));
    // Pad below too, unless the floor is the lowest value (a score axis starts at 0).
    match y_floor {
        Some(floor) if y0 >= floor => {}
        _ => y0 -= pad,
    }
    y1 += pad;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        // The legend gets its own strip right of the plot, so it can never cover a line
        // (inside the plot, scores rising to 1 ran under it).
        let legend_width = if lines.len() > 1 {
            legend_width(lines)
        } else {
            0
        };
        let (plot_area, legend_area) = root.split_horizontally(CHART_SIZE.0 - legend_width);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            // plotters' SVG back end writes font sizes divided by 1.24: 16 -> 13 px.
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(RGBColor(240, 240, 240))
            .max_light_lines(2)
            .y_label_formatter(&|v| format_tick(*v))
            .x_label_formatter(&|v| format_tick(*v))
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for line in lines {
            let colour = RGBColor(line.colour[0], line.colour[1], line.colour[2]);
            let points: Vec<(f64, f64)> = line
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            let marker_every = (points.len() / 40).max(1);
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| err(e.to_string()))?;
            // Dots show where the measurements are (a line alone hides a single point).
            chart
                .draw_series(
                    points
                        .iter()
                        .step_by(marker_every)
                        .map(|&p| Circle::new(p, 2, colour.filled())),
                )
                .map_err(|e| err(e.to_string()))?;
        }
        if legend_width > 0 {
            for (i, line) in lines.iter().enumerate() {
                let colour = RGBColor(line.colour[0], line.colour[1], line.colour[2]);
                // Rows from the top of the plot, each a line sample and the name.
                let y = LEGEND_TOP + i as i32 * LEGEND_ROW;
                legend_area
                    .draw(&PathElement::new(
                        vec![(4, y), (22, y)],
                        colour.stroke_width(2),
                    ))
                    .map_err(|e| err(e.to_string()))?;
                legend_area
                    .draw(&Circle::new((13, y), 2, colour.filled()))
                    .map_err(|e| err(e.to_string()))?;
                legend_area
                    .draw(&Text::new(
                        line.name.clone(),
                        (28, y),
                        ("sans-serif", 16)
                            .into_font()
                            .color(&RGBColor(34, 34, 34))
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    ))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// Top of the first legend row and the distance between rows, in pixels.
const LEGEND_TOP: i32 = 22;
const LEGEND_ROW: i32 = 22;

/// Width of the legend strip: the line sample, a gap and the longest name (13 px text is
/// about 7.5 px per character), within 70..=170 px.
fn legend_width(lines: &[Line]) -> u32 {
    let longest = lines
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    (36 + (longest as f64 * 7.5).ceil() as u32).clamp(70, 170)
}

/// Tick labels: short, without float noise (0.30000000000000004).
fn format_tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Scatter plot of map points, point `i` in `colours[i]`, as SVG text. Axes carry no
/// numbers: map coordinates (PCA or UMAP units) mean nothing on their own.
pub fn scatter(
    name: &str,
    points: &[(f32, f32)],
    colours: &[[u8; 3]],
    size: u32,
) -> Result<String> {
    let err = chart_error(name);
    let (x0, x1, y0, y1) = bounds(points);
    let px = ((x1 - x0) * 0.02).max(1e-6);
    let py = ((y1 - y0) * 0.02).max(1e-6);
    // Smaller, lighter dots for many points so dense regions still show their structure.
    let radius = if points.len() > 2000 { 2 } else { 3 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (size, size)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .build_cartesian_2d((x0 - px)..(x1 + px), (y0 - py)..(y1 + py))
            .map_err(|e| err(e.to_string()))?;
        chart
            .plotting_area()
            .draw(&Rectangle::new(
                [(x0 - px, y0 - py), (x1 + px, y1 + py)],
                RGBColor(200, 200, 200).stroke_width(1),
            ))
            .map_err(|e| err(e.to_string()))?;
        chart
            .draw_series(
                points
                    .iter()
                    .zip(colours)
                    .filter(|((x, y), _)| x.is_finite() && y.is_finite())
                    .map(|(&(x, y), c)| {
                        Circle::new(
                            (x, y),
                            radius,
                            RGBColor(c[0], c[1], c[2]).mix(0.75).filled(),
                        )
                    }),
            )
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_is_distinct_for_forty_categories() {
        let colours: Vec<[u8; 3]> = (0..40).map(category_colour).collect();
        for i in 0..colours.len() {
            for j in i + 1..colours.len() {
                assert_ne!(colours[i], colours[j], "{i} and {j}");
            }
        }
        assert_eq!(css_colour([31, 119, 180]), "#1f77b4");
        assert_eq!(hsl_to_rgb(0.0, 1.0, 0.5), [255, 0, 0]);
        assert_eq!(hsl_to_rgb(240.0, 1.0, 0.5), [0, 0, 255]);
    }

    #[test]
    fn line_chart_is_svg_with_labels_and_one_path_per_line() {
        let lines = vec![
            Line {
                name: "train".into(),
                colour: [1, 2, 3],
                points: vec![(1.0, 0.5), (2.0, 0.25), (3.0, 0.2)],
            },
            Line {
                name: "validation".into(),
                colour: [4, 5, 6],
                points: vec![(1.0, 0.6), (2.0, f64::NAN), (3.0, 0.3)],
            },
        ];
        let svg = line_chart("loss", "epoch", "MSE", &lines, None).expect("chart");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let text = |t: &str| svg.contains(&format!(">\n{t}\n</text>"));
        assert!(text("epoch") && text("MSE"), "axis titles as text");
        assert!(text("train") && text("validation"), "legend");
        assert!(svg.contains("#010203") && svg.contains("#040506"));
        let empty = vec![Line {
            name: "x".into(),
            colour: [0, 0, 0],
            points: vec![(0.0, f64::NAN)],
        }];
        assert!(line_chart("empty", "x", "y", &empty, None).is_err());
    }

    /// `(x, y)` of every point of every `<polyline>` in stroke `colour` (`#RRGGBB`).
    fn polyline_points(svg: &str, colour: &str) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for element in svg.split("<polyline").skip(1) {
            if !element.contains(&format!("stroke=\"{colour}\"")) {
                continue;
            }
            let at = element.find("points=\"").expect("points") + 8;
            let list = &element[at..at + element[at..].find('"').expect("end")];
            for pair in list.split_whitespace() {
                let (x, y) = pair.split_once(',').expect("x,y");
                out.push((x.parse().expect("x"), y.parse().expect("y")));
            }
        }
        out
    }

    #[test]
    fn legend_lies_right_of_every_line() {
        // Scores rising to 1 at the last update: the corner where a legend inside the plot
        // used to sit.
        let lines: Vec<Line> = ["ACC", "NMI", "ARI"]
            .iter()
            .enumerate()
            .map(|(i, name)| Line {
                name: name.to_string(),
                colour: category_colour(i),
                points: (0..40)
                    .map(|u| (u as f64, 0.7 + 0.1 * i as f64 + 0.0075 * u as f64))
                    .collect(),
            })
            .collect();
        let svg = line_chart("scores", "iteration", "score", &lines, Some(0.0)).expect("chart");
        let legend_x: Vec<f64> = svg
            .split("<text x=\"")
            .skip(1)
            .filter(|t| {
                ["ACC", "NMI", "ARI"]
                    .iter()
                    .any(|n| t.contains(&format!(">\n{n}\n<")))
            })
            .map(|t| t[..t.find('"').expect("x")].parse().expect("x"))
            .collect();
        assert_eq!(legend_x.len(), 3, "one legend entry per line");
        let legend_left = legend_x.iter().copied().fold(f64::INFINITY, f64::min);
        for line in &lines {
            let data = polyline_points(&svg, &css_colour(line.colour).to_uppercase());
            // The data line plus its legend sample (the two points farthest right).
            let (sample, data): (Vec<_>, Vec<_>) =
                data.into_iter().partition(|&(x, _)| x > legend_left - 30.0);
            assert_eq!(sample.len(), 2, "{}: one legend sample", line.name);
            assert!(data.len() >= 40, "{}: the line is drawn", line.name);
            let right = data.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            assert!(
                right < legend_left - 30.0,
                "{}: line reaches x = {right}",
                line.name
            );
        }
        assert!(
            legend_left + 30.0 < f64::from(CHART_SIZE.0),
            "legend inside the picture"
        );
    }

    #[test]
    fn scatter_draws_one_circle_per_finite_point() {
        let points = vec![(0.0, 0.0), (1.0, 2.0), (f32::NAN, 1.0), (3.0, -1.0)];
        let colours = vec![[255, 0, 0]; 4];
        let svg = scatter("map", &points, &colours, 300).expect("scatter");
        assert_eq!(svg.matches("<circle").count(), 3);
        // A single point (zero span) must not panic or divide by zero.
        let one = scatter("one", &[(1.0, 1.0)], &[[0, 0, 0]], 100).expect("one point");
        assert_eq!(one.matches("<circle").count(), 1);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(format_tick(0.30000000000000004), "0.3");
        assert_eq!(format_tick(1500.0), "1500");
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(2.5e-5), "2.5e-5");
    }
}
