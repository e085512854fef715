// aevb.datasets: the CLI's readers and short names (mnist, fashion-mnist,
// frey), handing the loaded values to numpy without a copy.
#include "bindings.hpp"

#include <aevb/data.hpp>

#include <string>
#include <vector>

namespace aevb::python {
namespace {

// [n, d], [n, h, w] for grey images, [n, c, h, w] for colour ones (planar, as Dataset stores them).
std::vector<py::ssize_t> array_shape(const Dataset& d) {
  const auto n = static_cast<py::ssize_t>(d.count);
  if (!d.is_image()) return {n, static_cast<py::ssize_t>(d.dim)};
  const auto h = static_cast<py::ssize_t>(d.height), w = static_cast<py::ssize_t>(d.width);
  if (d.channels == 1) return {n, h, w};
  return {n, static_cast<py::ssize_t>(d.channels), h, w};
}

}  // namespace

void bind_datasets(py::module_& m) {
  m.def(
      "load_dataset",
      [](const std::string& name, const std::string& split, const std::string& scaling, bool grey) {
        LoadOptions options;
        options.scaling = parse_scaling(scaling);
        options.color = grey ? ColorMode::grey : ColorMode::keep;
        const Split s = parse_split(split);
        Dataset d = compute([&] { return resolve_dataset(name, s, {}, options); });
        const std::vector<py::ssize_t> shape = array_shape(d);
        py::object x = d.is_bytes() ? py::object(to_numpy(std::move(d.bytes), shape))
                                    : py::object(to_numpy(std::move(d.floats), shape));
        py::object labels = py::none();
        if (d.has_labels()) labels = to_numpy(std::move(d.labels), {static_cast<py::ssize_t>(d.count)});
        return py::make_tuple(x, labels, d.source);
      },
      py::arg("name"), py::arg("split"), py::arg("scaling"), py::arg("grey"));
  m.def("data_search_path", [] {
    std::vector<std::string> dirs;
    for (const auto& p : data_search_path()) dirs.push_back(p.string());
    return dirs;
  });
}

}  // namespace aevb::python
