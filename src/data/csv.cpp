// CSV: one datapoint per line; numbers separated by ',', ';', a tab or spaces
// (the first line decides); an optional header line (any field that is not a
// number makes the first line a header).
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "data/byte_input.hpp"
#include "data/formats.hpp"
#include "data/values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

namespace aevb {
namespace data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// Splits `line` into `fields` (reused to avoid allocation).
void split(std::string_view line, char sep, std::vector<std::string_view>& fields) {
  fields.clear();
  if (sep == ' ') {
    std::size_t k = 0;
    while (k < line.size()) {
      while (k < line.size() && is_space(line[k])) ++k;
      const std::size_t start = k;
      while (k < line.size() && !is_space(line[k])) ++k;
      if (k > start) fields.push_back(line.substr(start, k - start));
    }
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = line.find(sep, start);
    fields.push_back(trim(line.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
}

bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string shown(std::string_view field) {
  std::string s(field.substr(0, 40));
  return "'" + s + (field.size() > 40 ? "...'" : "'");
}

bool is_label_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "label" || lower == "labels" || lower == "class" || lower == "target";
}

}  // namespace

CsvData parse_csv(const std::filesystem::path& path, bool label_column) {
  ByteInput in(path);
  std::vector<char> buffer;
  const std::uint64_t cap = std::min<std::uint64_t>(in.capacity(), std::numeric_limits<std::size_t>::max() / 2);
  read_growing(in, buffer, static_cast<std::size_t>(cap));
  const std::string_view text(buffer.data(), buffer.size());
  if (text.find('\0') != std::string_view::npos) fail(path, "not a text file: expected CSV numbers, found binary data");

  CsvData out;
  std::vector<std::string_view> fields;
  char sep = 0;
  std::size_t line_no = 0, first_data_line = 0, label_at = std::numeric_limits<std::size_t>::max();
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(line_no);
    if (sep == 0) {
      sep = line.find(',') != std::string_view::npos   ? ','
            : line.find(';') != std::string_view::npos ? ';'
            : line.find('\t') != std::string_view::npos ? '\t'
                                                        : ' ';
      split(line, sep, fields);
      double v = 0;
      bool header = false;
      for (std::string_view f : fields) header = header || !parse_number(f, v);
      if (header) {
        if (label_column) {
          for (std::size_t c = 0; c < fields.size(); ++c) {
            if (is_label_name(fields[c])) {
              label_at = c;
              break;
            }
          }
        }
        out.cols = fields.size() - (label_at < fields.size() ? 1 : 0);
        if (out.cols == 0) fail(path, "the header has only a label column: no values to read");
        first_data_line = line_no;
        continue;
      }
      out.cols = fields.size();
      out.values.reserve(std::min(text.size() / 2 + 1, (text.size() / (line.size() + 1) + 1) * out.cols));
    }
    split(line, sep, fields);
    const std::size_t expected = out.cols + (label_at != std::numeric_limits<std::size_t>::max() ? 1 : 0);
    if (fields.size() != expected) {
      throw InputError(where + ": expected " + std::to_string(expected) + " values per line" +
                       (first_data_line ? " (as in the header)" : " (as in the first line)") + ", found " +
                       std::to_string(fields.size()));
    }
    for (std::size_t c = 0; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_number(fields[c], v)) {
        throw InputError(where + ": expected a number in column " + std::to_string(c + 1) + ", found " + shown(fields[c]));
      }
      if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
        throw InputError(where + ": column " + std::to_string(c + 1) + " is not a finite float32 number (" + shown(fields[c]) + ")");
      }
      if (c == label_at) {
        if (v != std::floor(v) || std::fabs(v) > 2147483647.0) {
          throw InputError(where + ": expected a whole-number label in column " + std::to_string(c + 1) + ", found " + shown(fields[c]));
        }
        out.labels.push_back(static_cast<std::int32_t>(v));
      } else {
        out.values.push_back(static_cast<float>(v));
      }
    }
    ++out.rows;
  }
  if (out.rows == 0) fail(path, "no data rows: expected one line of numbers per datapoint");
  return out;
}

}  // namespace data

Dataset read_csv(const std::filesystem::path& path, const LoadOptions& options) {
  data::CsvData csv = data::parse_csv(path, true);
  data::check_row_limit(csv.rows, path);
  Dataset d;
  d.count = csv.rows;
  d.dim = csv.cols;
  d.labels = std::move(csv.labels);
  d.source = path.string();
  data::store_values(d, std::move(csv.values), options.scaling, path);
  return d;
}

}  // namespace aevb
