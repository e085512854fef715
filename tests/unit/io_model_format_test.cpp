// docs/model-format.md is the contract with PyTorch users. This test parses
// the tensor table from that page and checks it against (1) the table the
// loader validates files with and (2) real model files written by aevb, read
// with a minimal safetensors reader written here from the format description
// alone (it shares no code with src/io), so the docs and the code cannot drift.
#include "io/model_file.hpp"
#include "model/architecture.hpp"

#include <aevb/config.hpp>
#include <aevb/vae.hpp>

#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<std::size_t>;

struct Named {
  std::string name;
  Shape shape;
};

// ---- The docs table ---------------------------------------------------------

struct DocRow {
  std::string tensor, shape, likelihood;
};

std::string trim(std::string s) {
  const auto not_space = [](unsigned char ch) { return !std::isspace(ch); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string strip_backticks(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  return s;
}

/// The rows of the markdown table whose header starts "| Tensor | Shape | Likelihood |".
std::vector<DocRow> doc_rows() {
  const fs::path path = fs::path(AEVB_SOURCE_DIR) / "docs" / "model-format.md";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<DocRow> rows;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (!in_table) {
      if (line.rfind("| Tensor | Shape | Likelihood |", 0) == 0) {
        in_table = true;
        std::getline(in, line);  // the |---| separator
      }
      continue;
    }
    if (line.empty() || line[0] != '|') break;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    if (cells.size() < 3) throw std::runtime_error("bad table row: " + line);
    rows.push_back({strip_backticks(cells[0]), strip_backticks(cells[1]), trim(cells[2])});
  }
  if (rows.empty()) throw std::runtime_error("no tensor table in " + path.string());
  return rows;
}

/// Evaluates the docs' shape notation: "[e[i+1], e[i]]", "[Nz, e[n]]", "[D]".
class ShapeEval {
 public:
  ShapeEval(const ModelConfig& c, std::size_t i) : i_(i), n_(c.hidden.size()) {
    D_ = c.input_dim;
    Nz_ = c.latent;
    e_.push_back(D_);
    for (std::size_t h : c.hidden) e_.push_back(h);
    d_.push_back(Nz_);
    for (std::size_t k = c.hidden.size(); k-- > 0;) d_.push_back(c.hidden[k]);
  }

  Shape operator()(const std::string& text) {
    s_ = text;
    pos_ = 0;
    Shape shape;
    expect('[');
    if (peek() != ']') {
      shape.push_back(dim());
      while (peek() == ',') {
        ++pos_;
        shape.push_back(dim());
      }
    }
    expect(']');
    if (peek() != '\0') fail("trailing text");
    return shape;
  }

 private:
  char peek() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  void expect(char ch) {
    if (peek() != ch) fail(std::string("expected '") + ch + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& why) {
    throw std::runtime_error("docs shape '" + s_ + "': " + why + " at " + std::to_string(pos_));
  }
  std::string ident() {
    peek();
    std::string id;
    while (pos_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[pos_]))) id += s_[pos_++];
    if (id.empty()) fail("expected a name");
    return id;
  }
  std::size_t term() {
    const std::string id = ident();
    if (id == "i") return i_;
    if (id == "n") return n_;
    if (std::isdigit(static_cast<unsigned char>(id[0]))) return std::stoul(id);
    fail("unknown index '" + id + "'");
  }
  std::size_t index() {
    long long v = static_cast<long long>(term());
    while (peek() == '+' || peek() == '-') {
      const char op = s_[pos_++];
      const auto t = static_cast<long long>(term());
      v = op == '+' ? v + t : v - t;
    }
    if (v < 0) fail("negative index");
    return static_cast<std::size_t>(v);
  }
  std::size_t dim() {
    const std::string id = ident();
    if (id == "D") return D_;
    if (id == "Nz") return Nz_;
    if (id == "e" || id == "d") {
      expect('[');
      const std::size_t k = index();
      expect(']');
      const auto& widths = id == "e" ? e_ : d_;
      if (k >= widths.size()) fail("index out of range");
      return widths[k];
    }
    fail("unknown dimension '" + id + "'");
  }

  std::size_t i_, n_, D_ = 0, Nz_ = 0;
  std::vector<std::size_t> e_, d_;
  std::string s_;
  std::size_t pos_ = 0;
};

bool row_applies(const DocRow& row, Likelihood likelihood) {
  if (row.likelihood == "all") return true;
  std::stringstream ss(row.likelihood);
  std::string item;
  while (std::getline(ss, item, ','))
    if (trim(item) == to_string(likelihood)) return true;
  return false;
}

std::string replace_i(std::string name, std::size_t i) {
  const auto at = name.find("{i}");
  return name.replace(at, 3, std::to_string(i));
}

/// The docs' tensor list for `config`, in order: consecutive `{i}` rows
/// repeat together for i = 0 .. n-1.
std::vector<Named> documented_tensors(const ModelConfig& config) {
  const std::vector<DocRow> rows = doc_rows();
  std::vector<Named> out;
  for (std::size_t r = 0; r < rows.size();) {
    if (rows[r].tensor.find("{i}") == std::string::npos) {
      if (row_applies(rows[r], config.likelihood)) out.push_back({rows[r].tensor, ShapeEval(config, 0)(rows[r].shape)});
      ++r;
      continue;
    }
    std::size_t end = r;
    while (end < rows.size() && rows[end].tensor.find("{i}") != std::string::npos) ++end;
    for (std::size_t i = 0; i < config.hidden.size(); ++i)
      for (std::size_t k = r; k < end; ++k)
        if (row_applies(rows[k], config.likelihood))
          out.push_back({replace_i(rows[k].tensor, i), ShapeEval(config, i)(rows[k].shape)});
    r = end;
  }
  return out;
}

std::vector<ModelConfig> configs() {
  std::vector<ModelConfig> out;
  ModelConfig paper;  // 784-500-20 Bernoulli
  out.push_back(paper);
  ModelConfig frey;
  frey.input_dim = 560;
  frey.hidden = {200};
  frey.latent = 2;
  frey.likelihood = Likelihood::gaussian;
  out.push_back(frey);
  ModelConfig deep;
  deep.input_dim = 12;
  deep.hidden = {9, 7, 5};
  deep.latent = 3;
  deep.activation = Activation::relu;
  deep.likelihood = Likelihood::gaussian_fixed;
  out.push_back(deep);
  ModelConfig shallow;
  shallow.input_dim = 6;
  shallow.hidden = {};
  shallow.latent = 2;
  out.push_back(shallow);
  ModelConfig two;
  two.input_dim = 10;
  two.hidden = {8, 4};
  two.latent = 3;
  two.likelihood = Likelihood::gaussian;
  out.push_back(two);
  return out;
}

std::string describe(const ModelConfig& c) {
  std::string s = "D=" + std::to_string(c.input_dim) + " hidden=[";
  for (std::size_t h : c.hidden) s += std::to_string(h) + ",";
  return s + "] Nz=" + std::to_string(c.latent) + " " + std::string(to_string(c.likelihood));
}

// ---- An independent minimal safetensors reader --------------------------------

struct RawTensor {
  std::string name, dtype;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

struct RawFile {
  std::vector<RawTensor> tensors;  // header order
  nlohmann::json metadata;
  std::string data;
};

RawFile read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 8) throw std::runtime_error("short file");
  std::uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[k])) << (8 * k);
  if (n > bytes.size() - 8) throw std::runtime_error("bad header length");
  const auto header = nlohmann::ordered_json::parse(bytes.substr(8, n));
  RawFile f;
  f.data = bytes.substr(8 + n);
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      f.metadata = nlohmann::json::parse(info.dump());
      continue;
    }
    RawTensor t;
    t.name = name;
    t.dtype = info.at("dtype").get<std::string>();
    t.shape = info.at("shape").get<Shape>();
    t.begin = info.at("data_offsets").at(0).get<std::uint64_t>();
    t.end = info.at("data_offsets").at(1).get<std::uint64_t>();
    f.tensors.push_back(t);
  }
  return f;
}

std::size_t numel(const Shape& s) {
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  return n;
}

using test::TempDir;

// ---- Tests ------------------------------------------------------------------

TEST(IoModelFormat, DocsTableParses) {
  const std::vector<DocRow> rows = doc_rows();
  EXPECT_GE(rows.size(), 14u);
  for (const DocRow& r : rows) {
    EXPECT_TRUE(r.likelihood == "all" || row_applies(r, Likelihood::bernoulli) || row_applies(r, Likelihood::gaussian) ||
                row_applies(r, Likelihood::gaussian_fixed))
        << r.tensor << ": unknown likelihood column '" << r.likelihood << "'";
  }
}

TEST(IoModelFormat, DocsMatchTheLoadersTable) {
  for (const ModelConfig& c : configs()) {
    SCOPED_TRACE(describe(c));
    const std::vector<Named> docs = documented_tensors(c);
    const std::vector<ParameterInfo> table = parameter_table(c);
    ASSERT_EQ(docs.size(), table.size());
    std::size_t offset = 0;
    for (std::size_t k = 0; k < docs.size(); ++k) {
      EXPECT_EQ(docs[k].name, table[k].name) << "position " << k;
      EXPECT_EQ(docs[k].shape, table[k].shape) << docs[k].name;
      EXPECT_EQ(table[k].offset, offset) << docs[k].name;
      offset += numel(table[k].shape);
    }
  }
}

TEST(IoModelFormat, PaperModelSizeInDocs) {
  std::size_t total = 0;
  for (const Named& t : documented_tensors(ModelConfig{})) total += numel(t.shape);
  EXPECT_EQ(total, 815824u);
  std::ifstream in(fs::path(AEVB_SOURCE_DIR) / "docs" / "model-format.md");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("815,824 numbers"), std::string::npos);
}

TEST(IoModelFormat, EngineLayoutIsTheDocumentedOne) {
  for (const ModelConfig& c : configs()) {
    SCOPED_TRACE(describe(c));
    const Vae model(c, 3);
    const std::vector<Named> docs = documented_tensors(c);
    const auto& table = model.parameter_table();
    ASSERT_EQ(docs.size(), table.size());
    for (std::size_t k = 0; k < docs.size(); ++k) {
      EXPECT_EQ(table[k].name, docs[k].name);
      EXPECT_EQ(table[k].shape, docs[k].shape);
    }
  }
}

TEST(IoModelFormat, SavedFileMatchesDocsWithIndependentReader) {
  TempDir dir;
  for (const ModelConfig& c : configs()) {
    SCOPED_TRACE(describe(c));
    const Vae model(c, 7);
    const fs::path path = dir.path / "model.safetensors";
    save_model(path, model);
    const RawFile f = read_raw(path);

    // Metadata: format tags and the full config.
    EXPECT_EQ(f.metadata.at("format"), "aevb-vae");
    EXPECT_EQ(f.metadata.at("format_version"), "1");
    const auto cfg = nlohmann::json::parse(f.metadata.at("aevb_config").get<std::string>());
    EXPECT_EQ(cfg.at("input_dim"), c.input_dim);
    EXPECT_EQ(cfg.at("hidden").get<Shape>(), c.hidden);
    EXPECT_EQ(cfg.at("latent"), c.latent);
    EXPECT_EQ(cfg.at("likelihood"), to_string(c.likelihood));
    EXPECT_EQ(cfg.at("activation"), to_string(c.activation));

    // Exactly the documented tensors, with the documented shapes; data laid
    // out in the documented order, contiguous, and holding the parameters.
    const std::vector<Named> docs = documented_tensors(c);
    ASSERT_EQ(f.tensors.size(), docs.size());
    std::uint64_t expected_begin = 0;
    const auto params = model.parameters();
    std::size_t param_offset = 0;
    for (const Named& d : docs) {
      const auto it = std::find_if(f.tensors.begin(), f.tensors.end(), [&](const RawTensor& t) { return t.name == d.name; });
      ASSERT_NE(it, f.tensors.end()) << "the file lacks documented tensor " << d.name;
      EXPECT_EQ(it->dtype, "F32") << d.name;
      EXPECT_EQ(it->shape, d.shape) << d.name;
      EXPECT_EQ(it->begin, expected_begin) << d.name;
      EXPECT_EQ(it->end - it->begin, 4 * numel(d.shape)) << d.name;
      ASSERT_LE(it->end, f.data.size());
      EXPECT_EQ(std::memcmp(f.data.data() + it->begin, params.data() + param_offset, it->end - it->begin), 0)
          << d.name << " does not hold the parameters at its place in the flat buffer";
      expected_begin = it->end;
      param_offset += numel(d.shape);
    }
    EXPECT_EQ(expected_begin, f.data.size());
  }
}

}  // namespace
}  // namespace aevb
