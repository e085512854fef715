#pragma once
// Strict reading of JSON objects into struct fields, shared by the config
// readers: an unknown key or a value of the wrong type is an InputError
// naming the source and the key path ("cfg.toml: train.optimizer.lr:
// expected a number, found string \"x\"").
#include "io/config_json.hpp"

#include <aevb/error.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace aevb::json_io {

using json = nlohmann::json;

/// The float as the shortest decimal that reads back to the same float, held
/// as a double: 0.02f is written "0.02", not "0.019999999552965164".
inline json float_json(float v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  *res.ptr = '\0';
  return json(std::strtod(buf, nullptr));
}

inline std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s;
}

inline std::string describe(const json& v) {
  std::string dump = v.dump();
  if (dump.size() > 40) dump = dump.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + dump;
}

/// Reads one JSON object's keys into struct fields, strictly.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string_view where, std::string_view path,
               std::initializer_list<const char*> known)
      : j_(j), where_(where), path_(path) {
    if (!j.is_object()) throw InputError(where_ + ": " + path_ + " should be an object, found " + describe(j));
    std::vector<std::string> names(known.begin(), known.end());
    for (const auto& [key, value] : j.items()) {
      bool ok = false;
      for (const auto& name : names) ok = ok || key == name;
      if (!ok)
        throw InputError(where_ + ": unknown key '" + key_path(key) + "' (expected one of: " + join(names) + ")");
    }
  }

  std::string key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  [[noreturn]] void wrong(const char* key, const std::string& expected, const json& found) const {
    throw InputError(where_ + ": " + key_path(key) + ": expected " + expected + ", found " + describe(found));
  }

  const json* get(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  template <class U>
  static bool to_unsigned(const json& v, U& out) {
    std::uint64_t u = 0;
    if (v.is_number_unsigned()) {
      u = v.get<std::uint64_t>();
    } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
      u = static_cast<std::uint64_t>(v.get<std::int64_t>());
    } else {
      return false;
    }
    if (u > std::numeric_limits<U>::max()) return false;
    out = static_cast<U>(u);
    return true;
  }

  template <class U>
    requires std::is_unsigned_v<U>
  void read(const char* key, U& out) const {
    if (const json* v = get(key))
      if (!to_unsigned(*v, out)) wrong(key, "a non-negative integer", *v);
  }

  void read(const char* key, float& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_number()) wrong(key, "a number", *v);
    const double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
      wrong(key, "a finite float", *v);
    out = static_cast<float>(d);
  }

  void read(const char* key, double& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_number() || !std::isfinite(v->get<double>())) wrong(key, "a finite number", *v);
    out = v->get<double>();
  }

  void read(const char* key, std::string& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_string()) wrong(key, "a string", *v);
    out = v->get<std::string>();
  }

  void read(const char* key, bool& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_boolean()) wrong(key, "true or false", *v);
    out = v->get<bool>();
  }

  void read(const char* key, std::vector<std::size_t>& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_array()) wrong(key, "an array of non-negative integers", *v);
    std::vector<std::size_t> values;
    for (const json& item : *v) {
      std::size_t x = 0;
      if (!to_unsigned(item, x)) wrong(key, "an array of non-negative integers", *v);
      values.push_back(x);
    }
    out = std::move(values);
  }

  /// Layer declarations in the CLI's syntax ("conv:32:4:2:1,dense:256");
  /// "" is no declaration.
  void read_layers(const char* key, std::vector<LayerSpec>& out) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_string()) wrong(key, "a string of layers such as \"conv:32:4:2:1,dense:256\"", *v);
    const std::string& text = v->get_ref<const std::string&>();
    out = text.empty() ? std::vector<LayerSpec>{} : parse_layers(text, where_ + ": " + key_path(key));
  }

  template <class E>
  void read_enum(const char* key, E& out, E (*parse)(std::string_view)) const {
    const json* v = get(key);
    if (!v) return;
    if (!v->is_string()) wrong(key, "a string", *v);
    try {
      out = parse(v->get_ref<const std::string&>());
    } catch (const InputError& e) {
      // parse_* says "what: expected one of ..., found 'x'"; keep the part after "what: ".
      std::string m = e.what();
      const auto colon = m.find(": ");
      if (colon != std::string::npos) m.erase(0, colon + 2);
      throw InputError(where_ + ": " + key_path(key) + ": " + m);
    }
  }

  template <class Sub>
  void read_object(const char* key, Sub& out) const {
    if (const json* v = get(key)) apply_json(*v, out, where_, key_path(key));
  }

 private:
  const json& j_;
  std::string where_, path_;
};

}  // namespace aevb::json_io
