#include "io/safetensors.hpp"

#include "io/atomic_file.hpp"
#include "io/file_bytes.hpp"

#include <aevb/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

namespace aevb::safetensors {
namespace {

using json = nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

void put_u64_le(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

std::uint64_t get_u64_le(std::string_view bytes) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

void append_f32_le(std::string& out, std::span<const float> data) {
  const std::size_t start = out.size();
  out.resize(start + data.size() * sizeof(float));
  if (data.empty()) return;
  std::memcpy(out.data() + start, data.data(), data.size() * sizeof(float));
  if constexpr (std::endian::native == std::endian::big) {
    for (std::size_t i = start; i < out.size(); i += 4) {
      std::swap(out[i], out[i + 3]);
      std::swap(out[i + 1], out[i + 2]);
    }
  }
}

void read_f32_le(std::string_view bytes, std::vector<float>& out) {
  out.resize(bytes.size() / sizeof(float));
  if (out.empty()) return;
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  if constexpr (std::endian::native == std::endian::big) {
    for (float& f : out) {
      const auto u = std::bit_cast<std::uint32_t>(f);
      f = std::bit_cast<float>((u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24));
    }
  }
}

/// Checked product of the dimensions; false on overflow.
bool checked_numel(const std::vector<std::size_t>& shape, std::size_t& numel) {
  numel = 1;
  for (std::size_t d : shape) {
    if (d != 0 && numel > std::numeric_limits<std::size_t>::max() / d) return false;
    numel *= d;
  }
  return true;
}

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// A JSON value as a non-negative integer that fits in uint64, else false.
bool as_u64(const json& v, std::uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<std::uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(v.get<std::int64_t>());
    return true;
  }
  return false;
}

/// nlohmann's messages start with "[json.exception.parse_error.101] "; drop that.
std::string json_message(const std::exception& e) {
  std::string m = e.what();
  if (!m.empty() && m[0] == '[') {
    auto close = m.find("] ");
    if (close != std::string::npos) m.erase(0, close + 2);
  }
  return m;
}

struct Entry {
  std::string name;
  std::vector<std::size_t> shape;
  std::uint64_t begin = 0, end = 0;
};

}  // namespace

const Tensor* File::find(std::string_view name) const {
  for (const Tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string serialize(std::span<const TensorRef> tensors, const Metadata& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header["__metadata__"];
    meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }
  std::size_t offset = 0;
  std::set<std::string_view> names;
  for (const TensorRef& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second)
      throw std::invalid_argument("safetensors: bad or duplicate tensor name '" + t.name + "'");
    std::size_t numel = 0;
    if (!checked_numel(t.shape, numel) || numel != t.data.size())
      throw std::invalid_argument("safetensors: tensor '" + t.name + "' has shape " + shape_string(t.shape) +
                                  " but " + std::to_string(t.data.size()) + " values");
    const std::size_t bytes = numel * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data starts at a multiple of 8 bytes (8 + N = 0 mod 8).
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + text.size() + offset);
  put_u64_le(out, text.size());
  out += text;
  for (const TensorRef& t : tensors) append_f32_le(out, t.data);
  return out;
}

void write_file(const std::filesystem::path& path, std::span<const TensorRef> tensors,
                const Metadata& metadata) {
  write_file_atomic(path, serialize(tensors, metadata));
}

File parse(std::string_view bytes, const std::string& source) {
  auto fail = [&](const std::string& why) -> InputError {
    return InputError(source + ": not a valid safetensors file: " + why);
  };
  if (bytes.size() < 8)
    throw fail("the file has " + std::to_string(bytes.size()) +
               " bytes, fewer than the 8-byte header length (truncated?)");
  const std::uint64_t header_len = get_u64_le(bytes.substr(0, 8));
  const std::uint64_t available = bytes.size() - 8;
  if (header_len > available)
    throw fail("the header length field says " + std::to_string(header_len) + " bytes but only " +
               std::to_string(available) + " bytes follow (truncated, or not a safetensors file)");
  if (header_len > kMaxHeaderBytes)
    throw fail("the header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  const std::string_view header_text = bytes.substr(8, static_cast<std::size_t>(header_len));
  const std::string_view data = bytes.substr(8 + static_cast<std::size_t>(header_len));
  if (header_text.empty() || header_text.front() != '{')
    throw fail("the header should be a JSON object starting with '{'");

  json header;
  std::string duplicate;
  try {
    std::set<std::string> seen;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()) {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!seen.insert(key).second) duplicate = key;
      }
      return true;
    };
    header = json::parse(header_text.begin(), header_text.end(), callback);
  } catch (const json::exception& e) {
    throw fail("the header is not valid JSON (" + json_message(e) + ")");
  }
  if (!header.is_object()) throw fail("the header should be a JSON object");
  if (!duplicate.empty()) throw fail("the header names '" + duplicate + "' twice");

  File file;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (info.is_null()) continue;
      if (!info.is_object()) throw fail("__metadata__ should be an object of strings");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string())
          throw fail("__metadata__ entry '" + key + "' should be a string, found " + value.type_name());
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string what = "tensor '" + name + "'";
    if (!info.is_object()) throw fail(what + " should be an object with dtype, shape and data_offsets");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!info.contains(key)) throw fail(what + " has no " + key);
    const json& dtype = info["dtype"];
    if (!dtype.is_string()) throw fail(what + ": dtype should be a string, found " + dtype.type_name());
    if (dtype.get_ref<const std::string&>() != "F32")
      throw fail(what + " has dtype " + dtype.get<std::string>() + "; aevb reads only F32 (float32)");

    Entry entry;
    entry.name = name;
    const json& shape = info["shape"];
    if (!shape.is_array()) throw fail(what + ": shape should be an array of integers");
    for (const json& d : shape) {
      std::uint64_t v = 0;
      if (!as_u64(d, v) || v > std::numeric_limits<std::size_t>::max())
        throw fail(what + ": shape should hold non-negative integers, found " + d.dump());
      entry.shape.push_back(static_cast<std::size_t>(v));
    }
    std::size_t numel = 0;
    if (!checked_numel(entry.shape, numel) || numel > std::numeric_limits<std::size_t>::max() / sizeof(float))
      throw fail(what + ": shape " + shape_string(entry.shape) + " overflows");

    const json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !as_u64(offsets[0], entry.begin) ||
        !as_u64(offsets[1], entry.end))
      throw fail(what + ": data_offsets should be [begin, end], found " + offsets.dump());
    if (entry.begin > entry.end || entry.end > data.size())
      throw fail(what + ": data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                 "] lie outside the " + std::to_string(data.size()) + " data bytes");
    if (entry.end - entry.begin != numel * sizeof(float))
      throw fail(what + ": shape " + shape_string(entry.shape) + " needs " + std::to_string(numel * sizeof(float)) +
                 " bytes but data_offsets span " + std::to_string(entry.end - entry.begin));
    entries.push_back(std::move(entry));
  }

  // The data must be covered exactly once: no overlaps, no holes.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < cursor)
      throw fail("tensor '" + e.name + "' overlaps tensor '" + previous->name + "' at data byte " +
                 std::to_string(e.begin));
    if (e.begin > cursor)
      throw fail("data bytes " + std::to_string(cursor) + " to " + std::to_string(e.begin) +
                 " belong to no tensor");
    cursor = e.end;
    previous = &e;
  }
  if (cursor != data.size())
    throw fail(std::to_string(data.size() - cursor) + " bytes after the last tensor belong to no tensor");

  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    Tensor t;
    t.name = std::move(e.name);
    t.shape = std::move(e.shape);
    read_f32_le(data.substr(static_cast<std::size_t>(e.begin), static_cast<std::size_t>(e.end - e.begin)), t.data);
    file.tensors.push_back(std::move(t));
  }
  return file;
}

File read_file(const std::filesystem::path& path) { return parse(read_file_bytes(path), path.string()); }

}  // namespace aevb::safetensors
