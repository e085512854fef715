#pragma once
// A small well-formedness checker for the markup the viz writers emit (SVG
// and HTML): balanced and properly nested tags, quoted attributes, only known
// entities, no stray '<' or '&'. Returns "" when the document passes, else a
// description of the first problem. Not a general XML parser.
#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aevb::viz::testing {

inline bool valid_entity_at(std::string_view doc, std::size_t amp) {
  static const char* kNamed[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
  for (const char* e : kNamed) {
    if (doc.substr(amp, std::string_view(e).size()) == e) return true;
  }
  return false;
}

inline std::string check_markup(std::string_view doc, bool html) {
  static const std::set<std::string, std::less<>> kVoid = {"meta", "img", "br", "hr", "link", "input"};
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return "at offset " + std::to_string(k); };
  while (i < doc.size()) {
    const char c = doc[i];
    if (c == '&') {
      if (!valid_entity_at(doc, i)) return "bad entity " + at(i);
      ++i;
      continue;
    }
    if (c != '<') {
      if (c == '>') return "stray '>' in text " + at(i);
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(c))) return "text outside the root " + at(i);
      ++i;
      continue;
    }
    if (doc.substr(i, 4) == "<!--") {
      const std::size_t e = doc.find("-->", i);
      if (e == std::string_view::npos) return "unterminated comment";
      i = e + 3;
      continue;
    }
    if (doc.substr(i, 2) == "<!" || doc.substr(i, 2) == "<?") {
      if (!stack.empty()) return "declaration inside an element " + at(i);
      const std::size_t e = doc.find('>', i);
      if (e == std::string_view::npos) return "unterminated declaration";
      i = e + 1;
      continue;
    }
    if (doc.substr(i, 2) == "</") {
      const std::size_t e = doc.find('>', i);
      if (e == std::string_view::npos) return "unterminated end tag";
      const std::string name(doc.substr(i + 2, e - i - 2));
      if (stack.empty() || stack.back() != name) {
        return "end tag </" + name + "> does not match <" + (stack.empty() ? "" : stack.back()) + "> " + at(i);
      }
      stack.pop_back();
      i = e + 1;
      continue;
    }
    // Start tag: name, attributes name="value", then > or />.
    std::size_t k = i + 1;
    while (k < doc.size() && (std::isalnum(static_cast<unsigned char>(doc[k])) || doc[k] == '-' || doc[k] == ':')) ++k;
    const std::string name(doc.substr(i + 1, k - i - 1));
    if (name.empty()) return "stray '<' " + at(i);
    std::set<std::string> seen;
    bool self_closing = false;
    for (;;) {
      while (k < doc.size() && std::isspace(static_cast<unsigned char>(doc[k]))) ++k;
      if (k >= doc.size()) return "unterminated start tag <" + name + ">";
      if (doc[k] == '>') {
        ++k;
        break;
      }
      if (doc.substr(k, 2) == "/>") {
        self_closing = true;
        k += 2;
        break;
      }
      const std::size_t a = k;
      while (k < doc.size() && (std::isalnum(static_cast<unsigned char>(doc[k])) || doc[k] == '-' || doc[k] == ':')) ++k;
      const std::string attr(doc.substr(a, k - a));
      if (attr.empty()) return "bad attribute in <" + name + "> " + at(k);
      if (!seen.insert(attr).second) return "duplicate attribute " + attr + " in <" + name + ">";
      if (doc.substr(k, 2) != "=\"") return "unquoted attribute " + attr + " in <" + name + "> " + at(k);
      k += 2;
      const std::size_t v = doc.find('"', k);
      if (v == std::string_view::npos) return "unterminated attribute value " + at(k);
      for (std::size_t q = k; q < v; ++q) {
        if (doc[q] == '<') return "'<' in attribute value " + at(q);
        if (doc[q] == '&' && !valid_entity_at(doc, q)) return "bad entity in attribute " + at(q);
      }
      k = v + 1;
    }
    if (stack.empty()) ++roots;
    if (!self_closing && !(html && kVoid.count(name) > 0)) {
      if (html && (name == "style" || name == "script")) {  // raw text
        const std::string close = "</" + name + ">";
        const std::size_t e = doc.find(close, k);
        if (e == std::string_view::npos) return "unterminated <" + name + ">";
        if (doc.substr(k, e - k).find('<') != std::string_view::npos) return "'<' inside <" + name + ">";
        k = e + close.size();
      } else {
        stack.push_back(name);
      }
    }
    i = k;
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (roots != 1) return "expected one root element, found " + std::to_string(roots);
  return "";
}

}  // namespace aevb::viz::testing
