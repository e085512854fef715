#pragma once
// Test scaffolding shared by the file-format tests: a per-test scratch folder,
// and a check that an expression throws an InputError saying something.
#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace aevb::test {

/// A fresh folder named after the running test, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = std::filesystem::temp_directory_path() /
           ("aevb_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

/// The message of the InputError that f() throws, or "" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace aevb::test

#define EXPECT_ERROR_CONTAINS(expr, fragment)                                               \
  do {                                                                                      \
    const std::string message_ = ::aevb::test::error_of([&] { (void)(expr); });             \
    EXPECT_NE(message_.find(fragment), std::string::npos)                                   \
        << "expected an error containing '" << (fragment) << "', got '" << message_ << "'"; \
  } while (0)
