// aevb: train, evaluate and use variational autoencoders (Kingma & Welling 2013).
// Exit codes: 0 success, 2 bad input (arguments, files, a model that does not
// fit the data, training that diverged), 1 internal error, 128 + N training
// stopped (and checkpointed) by signal N. Under mpirun (docs/distributed.md)
// an error on any rank names it and ends the whole job with its code.
#include "commands.hpp"
#include "stop_signal.hpp"
#include "world.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

namespace {

// One line on stderr; under MPI it names the rank and ends the whole job.
int fail(int code, const std::string& line) {
  aevb::cli::World& world = aevb::cli::World::get();
  const std::string rank =
      world.size() > 1 ? "rank " + std::to_string(world.rank()) + " of " + std::to_string(world.size()) + ": " : "";
  std::cerr << "aevb: " << (code == 1 ? "internal error: " : "error: ") << rank << line << "\n";
  world.abort_job(code);
  return code;
}

int run(int argc, char** argv) {
  CLI::App app{"aevb: Auto-Encoding Variational Bayes (Kingma & Welling 2013): train, evaluate and use VAEs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  app.set_version_flag("--version", "aevb " + std::string(aevb::kVersion));
  aevb::cli::add_train_command(app);
  aevb::cli::add_train_prior_command(app);
  aevb::cli::add_eval_command(app);
  aevb::cli::add_report_command(app);
  aevb::cli::add_info_command(app);
  aevb::cli::add_sample_command(app);
  aevb::cli::add_reconstruct_command(app);
  aevb::cli::add_manifold_command(app);
  aevb::cli::add_interpolate_command(app);
  aevb::cli::add_encode_command(app);
  aevb::cli::add_cluster_command(app);
  aevb::cli::add_decode_command(app);
  aevb::cli::add_inpaint_command(app);
  aevb::cli::add_paper_command(app);
  aevb::cli::add_explore_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(2, std::string(e.what()) + " (see aevb --help)");
  } catch (const aevb::cli::Interrupted& e) {
    return 128 + e.signal;
  } catch (const aevb::InputError& e) {
    return fail(2, e.what());
  } catch (const aevb::NumericError& e) {
    return fail(2, e.what());
  } catch (const std::exception& e) {
    return fail(1, e.what());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  aevb::cli::World::start(argc, argv);
  const int code = run(argc, argv);
  aevb::cli::World::finish();
  return code;
}
