/*
 * ncursesw as seen from Swift 6.
 *
 * Swift cannot read mutable C globals (stdscr, LINES, ...) under strict concurrency and does not
 * import function-like macros (A_BOLD, COLOR_PAIR, BUTTON1_CLICKED, ...). This header turns them
 * into inline getters and constants. Only the Terminal target imports it.
 *
 * No static variables here: every Swift file that imports this module gets its own copy of
 * static data, so all state lives in Swift.
 */
#ifndef DICOMTUI_CNCURSESW_SHIM_H
#define DICOMTUI_CNCURSESW_SHIM_H

/* Before curses.h: enables get_wch, cchar_t, setcchar, mvadd_wch, the *_wstr functions. */
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* glibc hides wcwidth behind __USE_XOPEN and Swift's Glibc module does not export it. */
extern int wcwidth(wchar_t c);

/* ---- mutable globals -> functions ---- */
static inline WINDOW *cs_stdscr(void) { return stdscr; }
static inline WINDOW *cs_curscr(void) { return curscr; }
static inline int cs_lines(void) { return LINES; }
static inline int cs_cols(void) { return COLS; }
static inline int cs_colors(void) { return COLORS; }
static inline int cs_color_pairs(void) { return COLOR_PAIRS; }
static inline FILE *cs_stdout(void) { return stdout; }
static inline FILE *cs_stdin(void) { return stdin; }

/* ---- attributes ---- */
static const attr_t CS_A_NORMAL = A_NORMAL;
static const attr_t CS_A_BOLD = A_BOLD;
static const attr_t CS_A_DIM = A_DIM;
static const attr_t CS_A_REVERSE = A_REVERSE;
static const attr_t CS_A_UNDERLINE = A_UNDERLINE;
static const attr_t CS_A_COLOR = A_COLOR;
static inline attr_t cs_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }

/* ---- wide-character cells ---- */
static const int CS_CCHARW_MAX = CCHARW_MAX;

/* ---- terminfo: tigetstr's "absent" and "cancelled" results ---- */
static inline int cs_tigetstr_ok(const char *s) { return s != 0 && s != (char *)-1; }

/* ---- mouse ---- */
static const mmask_t CS_BUTTON1_PRESSED = BUTTON1_PRESSED;
static const mmask_t CS_BUTTON1_RELEASED = BUTTON1_RELEASED;
static const mmask_t CS_BUTTON1_CLICKED = BUTTON1_CLICKED;
static const mmask_t CS_BUTTON1_DOUBLE_CLICKED = BUTTON1_DOUBLE_CLICKED;
static const mmask_t CS_BUTTON1_TRIPLE_CLICKED = BUTTON1_TRIPLE_CLICKED;
static const mmask_t CS_BUTTON2_PRESSED = BUTTON2_PRESSED;
static const mmask_t CS_BUTTON2_RELEASED = BUTTON2_RELEASED;
static const mmask_t CS_BUTTON2_CLICKED = BUTTON2_CLICKED;
static const mmask_t CS_BUTTON2_DOUBLE_CLICKED = BUTTON2_DOUBLE_CLICKED;
static const mmask_t CS_BUTTON2_TRIPLE_CLICKED = BUTTON2_TRIPLE_CLICKED;
static const mmask_t CS_BUTTON3_PRESSED = BUTTON3_PRESSED;
static const mmask_t CS_BUTTON3_RELEASED = BUTTON3_RELEASED;
static const mmask_t CS_BUTTON3_CLICKED = BUTTON3_CLICKED;
static const mmask_t CS_BUTTON3_DOUBLE_CLICKED = BUTTON3_DOUBLE_CLICKED;
static const mmask_t CS_BUTTON3_TRIPLE_CLICKED = BUTTON3_TRIPLE_CLICKED;
static const mmask_t CS_BUTTON4_PRESSED = BUTTON4_PRESSED;
static const mmask_t CS_BUTTON4_RELEASED = BUTTON4_RELEASED;
static const mmask_t CS_BUTTON5_PRESSED = BUTTON5_PRESSED;
static const mmask_t CS_BUTTON5_RELEASED = BUTTON5_RELEASED;
static const mmask_t CS_ALL_MOUSE_EVENTS = ALL_MOUSE_EVENTS;
static const mmask_t CS_REPORT_MOUSE_POSITION = REPORT_MOUSE_POSITION;

#endif
