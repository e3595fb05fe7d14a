#pragma once

#include <string>
#include <string_view>

namespace billpay::model {

/// True when `utf8` is valid UTF-8 free of characters that change how text around them is
/// shown or split when it reaches a receipt, a log, a CSV cell or an operator's terminal: C0
/// controls, DEL, C1 controls (U+0080-U+009F), the bidirectional marks, embeddings, overrides
/// and isolates (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph
/// separators (U+2028, U+2029) and the byte order mark (U+FEFF).
bool is_plain_text(std::string_view utf8) noexcept;

/// A CSV field, quoted when it must be; a leading =, +, - or @ is prefixed with ' so that a
/// spreadsheet never runs it as a formula (finance's reports, customers' exports, breach lists).
std::string csv_field(std::string_view text);

}  // namespace billpay::model
