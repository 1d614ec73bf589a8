import TerminalKit
import FeedModel

/// The styles the views draw with. With colour off (NO_COLOR, --no-color) every style keeps
/// only bold, dim, reverse and underline, so the UI stays readable in monochrome.
public struct Theme: Sendable {
    public var color: Bool

    public init(color: Bool) { self.color = color }

    func style(_ s: Style) -> Style { color ? s : s.monochrome }

    var titleBar: Style { color ? Style(fg: .black, bg: .cyan, bold: true) : Style(bold: true, reverse: true) }
    var demoBadge: Style { color ? Style(fg: .black, bg: .yellow, bold: true) : Style(bold: true) }
    /// A production profile: the whole title bar turns red (reverse bold without colour).
    var productionBar: Style { color ? Style(fg: .white, bg: .red, bold: true) : Style(bold: true, reverse: true, underline: true) }
    var productionBadge: Style { color ? Style(fg: .red, bg: .white, bold: true) : Style(bold: true) }
    var profileBadge: Style { color ? Style(fg: .black, bg: .white, bold: true) : Style(bold: true) }
    var followBadge: Style { color ? Style(fg: .black, bg: .green, bold: true) : Style(bold: true, underline: true) }
    var filterBadge: Style { color ? Style(fg: .black, bg: .white) : Style(bold: true) }
    var heading: Style { Style(bold: true, underline: true) }
    var label: Style { style(Style(dim: true)) }
    var plain: Style { .plain }
    var selection: Style { Style(reverse: true) }
    var statusBar: Style { color ? Style(fg: .white, bg: .blue) : Style(reverse: true) }
    var hintKey: Style { style(Style(fg: .cyan, bold: true)) }
    var hintText: Style { .plain }
    var error: Style { style(Style(fg: .red, bold: true)) }
    var warning: Style { style(Style(fg: .yellow, bold: true)) }
    var good: Style { style(Style(fg: .green, bold: true)) }
    var emphasis: Style { Style(bold: true) }

    func tokenStyle(_ status: TokenStatusLike) -> Style {
        switch status {
        case .good: good
        case .warn: warning
        case .bad: error
        case .neutral: label
        }
    }

    func action(_ a: ChangeFeedAction) -> Style {
        switch a {
        case .create: style(Style(fg: .green))
        case .delete: style(Style(fg: .red))
        case .update: style(Style(fg: .yellow))
        }
    }

    func state(_ s: ChangeFeedState) -> Style {
        switch s {
        case .current: .plain
        case .replaced: style(Style(fg: .yellow, dim: true))
        case .deleted: style(Style(fg: .red, dim: true))
        }
    }
}

enum TokenStatusLike { case good, warn, bad, neutral }
