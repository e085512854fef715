// aevb: train, evaluate and use variational autoencoders (Kingma & Welling 2013).
// Exit codes: 0 success, 2 bad input (arguments, files, a model that does not
// fit the data, training that diverged), 1 internal error, 128 + N training
// stopped (and checkpointed) by signal N.
#include "commands.hpp"
#include "stop_signal.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"aevb: Auto-Encoding Variational Bayes (Kingma & Welling 2013): train, evaluate and use VAEs"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every subcommand");
  app.set_version_flag("--version", "aevb " + std::string(aevb::kVersion));
  aevb::cli::add_train_command(app);
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
    std::cerr << "aevb: error: " << e.what() << " (see aevb --help)\n";
    return 2;
  } catch (const aevb::cli::Interrupted& e) {
    return 128 + e.signal;
  } catch (const aevb::InputError& e) {
    std::cerr << "aevb: error: " << e.what() << "\n";
    return 2;
  } catch (const aevb::NumericError& e) {
    std::cerr << "aevb: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aevb: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
