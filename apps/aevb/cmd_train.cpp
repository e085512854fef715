// aevb train: minibatch AEVB on a dataset, with metrics, checkpoints, resume,
// the model file and the report. Settings compose in this order: defaults,
// --preset, --config file, then flags given on the command line.
#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"
#include "run_files.hpp"
#include "stop_signal.hpp"
#include "world.hpp"

#include "eval/codebook_metrics.hpp"
#include "io/atomic_file.hpp"
#include "io/checkpoint.hpp"
#include "io/config_json.hpp"
#include "io/model_file.hpp"
#include "io/run_settings_json.hpp"
#include "optim/lr_schedule.hpp"
#include "train/algorithm.hpp"
#include "train/epoch_metrics.hpp"
#include "train/epoch_runner.hpp"
#include "train/initial_model.hpp"
#include "train/run_settings.hpp"
#include "train/save_schedule.hpp"
#include "train/step_size_search.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

namespace aevb::cli {
namespace {

struct TrainFlags {
  std::string preset, config_file, data, binarize, scaling = "unit";
  std::string family, algorithm, rws_q, encoder, decoder;
  std::vector<std::size_t> hidden, top_hidden, classifier_hidden;
  std::size_t latent = 0, top_latent = 0, clusters = 0, classes = 0, samples = 0, batch = 0, epochs = 0, limit = 0,
              test_eval = 0;
  std::size_t shards = 0, codes = 0, code_dim = 0, pretrain_epochs = 0;
  float commitment = 0, codebook_decay = 0;
  std::string codebook;
  bool no_code_restarts = false;
  std::string activation, likelihood, init, output_bias, estimator, optimizer, weight_decay, matmul_precision;
  float variance = 0, beta = 0, momentum = 0, clip_norm = 0, warmup = 0;
  std::string lr;  // a number, or "auto" (train/step_size_search.hpp)
  std::string lr_schedule;
  std::uint64_t lr_warmup = 0;
  float adam_eps = 0;
  std::vector<float> adam_betas;
  double validation = 0;
  std::uint64_t seed = 0;
  double checkpoint_every = 600;  // seconds
  int threads = 0;
  std::string out = "runs/latest", resume;
  bool overwrite = false, no_report = false;
  bool grey = false, full_vb = false;
  CLI::App* cmd = nullptr;

  bool given(const char* name) const { return cmd->count(name) > 0; }
};

// A flag that takes a number or one word (--lr auto, --weight-decay prior),
// given something other than the word: its number, or one error line.
float number_or_word(const std::string& text, const char* flag, const char* word) {
  try {
    std::size_t used = 0;
    const float v = std::stof(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw InputError(std::string(flag) + ": expected a number or '" + word + "', found '" + text + "'");
}

// Flags override whatever the preset and the config file said.
void apply_flags(const TrainFlags& f, RunSettings& s) {
  if (f.given("--data")) s.data = f.data;
  if (f.given("--limit")) s.limit = f.limit;
  if (f.given("--scaling")) s.scaling = parse_scaling(f.scaling);
  if (f.given("--grey")) s.color = ColorMode::grey;
  if (f.given("--binarize")) s.binarize = parse_binarize(f.binarize);
  if (f.given("--family")) s.model.family = f.family;
  if (f.given("--algorithm")) s.train.algorithm = f.algorithm;
  if (f.given("--rws-q")) s.train.rws_q = f.rws_q;
  if (f.given("--rws-q") && s.train.algorithm != "rws")
    throw InputError("--rws-q chooses what trains rws's encoder; the algorithm is " + s.train.algorithm);
  if (f.given("--hidden") && f.given("--encoder"))
    throw InputError("--hidden and --encoder both declare the encoder: give one (--hidden W is --encoder dense:W)");
  if (f.given("--hidden")) {  // the MLP shorthand replaces any declared layers
    s.model.hidden = f.hidden;
    s.model.encoder.clear();
    s.model.decoder.clear();
  }
  if (f.given("--encoder")) {  // a new encoder: the decoder mirrors it unless declared too
    s.model.encoder = parse_layers(f.encoder, "--encoder");
    s.model.decoder.clear();
  }
  if (f.given("--decoder")) s.model.decoder = parse_layers(f.decoder, "--decoder");
  if (f.given("--latent")) s.model.latent = f.latent;
  if (f.given("--top-latent")) s.model.top_latent = f.top_latent;
  if (f.given("--top-hidden")) s.model.top_hidden = f.top_hidden;
  if (f.given("--clusters")) s.model.clusters = f.clusters;
  if (f.given("--classes")) s.model.classes = f.classes;
  if (f.given("--classifier-hidden")) s.model.classifier_hidden = f.classifier_hidden;
  if (f.given("--pretrain-epochs")) s.pretrain_epochs = f.pretrain_epochs;
  if (f.given("--codes")) s.model.codebook.codes = f.codes;
  if (f.given("--code-dim")) s.model.codebook.dim = f.code_dim;
  if (f.given("--commitment")) s.model.codebook.commitment = f.commitment;
  if (f.given("--codebook")) s.model.codebook.update = parse_codebook_update(f.codebook);
  if (f.given("--codebook-decay")) s.model.codebook.decay = f.codebook_decay;
  if (f.given("--no-code-restarts")) s.model.codebook.restarts = false;
  if (f.given("--activation")) s.model.activation = parse_activation(f.activation);
  if (f.given("--likelihood")) s.model.likelihood = parse_likelihood(f.likelihood);
  if (f.given("--variance")) s.model.fixed_variance = f.variance;
  if (f.given("--init")) s.model.init = parse_init(f.init);
  if (f.given("--output-bias")) s.output_bias = parse_output_bias(f.output_bias);
  if (f.given("--estimator")) s.train.objective.estimator = parse_estimator(f.estimator);
  if (f.given("--samples")) s.train.objective.samples = f.samples;
  if (f.given("--beta")) s.train.objective.beta = f.beta;
  if (f.given("--kl-warmup")) s.kl_warmup_epochs = f.warmup;
  if (f.given("--optimizer")) s.train.optimizer.kind = parse_optimizer(f.optimizer);
  if (f.given("--lr") && f.lr != "auto") s.train.optimizer.lr = number_or_word(f.lr, "--lr", "auto");
  if (f.given("--lr-schedule")) s.train.optimizer.schedule = parse_lr_schedule(f.lr_schedule);
  if (f.given("--lr-warmup")) s.train.optimizer.lr_warmup_steps = f.lr_warmup;
  if (f.given("--adam-eps")) s.train.optimizer.eps = f.adam_eps;
  if (f.given("--adam-betas")) {
    if (f.adam_betas.size() != 2 || !(f.adam_betas[0] >= 0 && f.adam_betas[0] < 1) ||
        !(f.adam_betas[1] >= 0 && f.adam_betas[1] < 1))
      throw InputError("--adam-betas: expected two numbers in [0, 1) as B1,B2 (e.g. 0.9,0.999)");
    s.train.optimizer.beta1 = f.adam_betas[0];
    s.train.optimizer.beta2 = f.adam_betas[1];
  }
  if (f.given("--momentum")) s.train.optimizer.momentum = f.momentum;
  if (f.given("--clip-norm")) s.train.optimizer.clip_norm = f.clip_norm;
  if (f.given("--weight-decay")) {
    s.prior_weight_decay = f.weight_decay == "prior";
    if (!s.prior_weight_decay) s.train.optimizer.weight_decay = number_or_word(f.weight_decay, "--weight-decay", "prior");
  }
  if (f.given("--full-vb")) {
    // App. F: the weight posterior is the model's, its training the algorithm's.
    if (f.given("--algorithm") && f.algorithm != "full-vb")
      throw InputError("--full-vb trains with its own algorithm; --algorithm " + f.algorithm + " cannot train it");
    if (f.given("--weight-decay"))
      throw InputError("--full-vb's prior on the decoder is its KL term and the encoder's parameters have none "
                       "(App. F): --weight-decay does not apply");
    s.model.weight_posterior = true;
    s.train.algorithm = "full-vb";
    s.prior_weight_decay = false;  // a preset's MAP prior, replaced by the KL
    s.train.optimizer.weight_decay = 0;
  }
  if (f.given("--batch")) s.train.batch = f.batch;
  if (f.given("--shards")) s.train.shards = f.shards;
  // The algorithm decides whether the model has an encoder (MCEM's has none).
  const AlgorithmInfo& algorithm = find_algorithm(s.train.algorithm);
  s.model.decoder_only = !algorithm.trains_encoder;
  if (algorithm.batch_method && f.given("--batch"))
    throw InputError("--batch: " + s.train.algorithm + " is a batch method; its minibatch is the whole training set");
  if (!algorithm.trains_encoder && f.given("--validation") && f.validation != 0)
    throw InputError("--validation: " + s.train.algorithm + " trains no encoder, so no bound is evaluated on "
                     "held-out data (its log p(x) is aevb eval --hmc's)");
  if (f.given("--epochs")) s.epochs = f.epochs;
  if (f.given("--seed")) s.train.seed = f.seed;
  if (f.given("--matmul-precision")) s.train.matmul_precision = parse_matmul_precision(f.matmul_precision);
  if (f.given("--validation")) s.validation = f.validation;
  if (f.given("--test-eval")) s.test_eval_limit = f.test_eval;
}

RunSettings resolve_settings(const TrainFlags& f) {
  RunSettings s = f.preset.empty() ? RunSettings{} : preset_settings(f.preset);
  if (!f.config_file.empty()) apply_run_config(load_config_file(f.config_file), s, f.config_file);
  apply_flags(f, s);
  return s;
}

// The data of a run: training and validation sets, and a test slice.
struct RunData {
  Dataset train, validation, test;
  std::vector<float> validation_x, test_x;  // binarized once, for comparable numbers
};

// Sets the classes of a conditional model not given them (--classes) from the labels.
RunData load_run_data(RunSettings& s) {
  LoadOptions options;
  options.scaling = s.scaling;
  options.color = s.color;
  Dataset all = resolve_dataset(s.data, Split::train, {}, options);
  if (s.limit > 0) all = first_rows(all, s.limit);
  if (find_family(s.model.family).conditional && s.model.classes == 0) s.model.classes = label_classes(all);
  // A decoder-only model (MCEM's) has no bound to evaluate: nothing is held out for one.
  const bool evaluated = !s.model.decoder_only;
  const double validation = s.validation >= 0 ? s.validation
                            : evaluated       ? double(std::min<std::size_t>(1000, all.count / 10))
                                              : 0.0;
  ValidationSplit split = split_validation(all, validation, s.train.seed);
  RunData d{std::move(split.train), std::move(split.validation), {}, {}, {}};
  if (s.binarize == Binarize::fixed) {
    binarize_fixed(d.train, s.train.seed);
    binarize_fixed(d.validation, s.train.seed);
  }
  if (evaluated && s.test_eval_limit > 0 && is_dataset_name(s.data) && s.data != "frey")
    d.test = first_rows(resolve_dataset(s.data, Split::test, {}, options), s.test_eval_limit);
  return d;
}

// The held-out sets as the completed model reads them, binarized once.
void gather_held_out(RunData& d, const RunSettings& s) {
  if (d.test.count > 0)
    d.test_x = evaluation_rows(with_label_columns(d.test, s.model.classes), s.binarize, s.train.seed);
  if (d.validation.count > 0)
    d.validation_x = evaluation_rows(with_label_columns(d.validation, s.model.classes), s.binarize, s.train.seed);
}

std::optional<Bound> evaluate_on(const Vae& model, const std::vector<float>& x, const RunSettings& s) {
  const std::size_t width = model_row_width(s.model);
  return evaluate_held_out(model, {x.data(), x.size() / width, width}, s.train.objective,
                           s.train.seed, &World::get().communicator());
}

// A codebook's measures on the held-out set after an epoch (the test images
// evaluated, else the validation set), as metrics.jsonl's test_* or
// validation_* keys; the line the epoch's log prints, or "" for a model
// without a codebook or nothing held out.
std::string add_codebook_metrics(nlohmann::json& metrics, const Vae& model, const RunData& data,
                                 const RunSettings& s) {
  if (model.code_grid().codes == 0) return "";
  const bool test = !data.test_x.empty();
  const std::vector<float>& x = test ? data.test_x : data.validation_x;
  if (x.empty()) return "";
  const CodebookEvaluation c = evaluate_codebook(model, {x.data(), x.size() / s.model.input_dim, s.model.input_dim});
  add_codebook_json(metrics, c, test ? "test_" : "validation_");
  char line[200];
  std::snprintf(line, sizeof line, "%s: MSE %.5f (%.4f of the variance), codes used %zu of %zu, perplexity %.1f",
                test ? "test" : "validation", c.mse, c.mse_normalized, c.codes_used, c.usage.size(), c.perplexity);
  return line;
}

// A float step size as the decimal it was written as (0.01, not 0.0099999998).
double as_written(float lr) {
  char text[32];
  std::snprintf(text, sizeof text, "%.7g", double(lr));  // a float's 7 significant digits
  return std::strtod(text, nullptr);
}

// --lr auto: the paper's choice among candidate step sizes by the first
// steps' bound; the choice is the run's lr from here on (its checkpoint keeps
// it), and step_size.json records the trials.
void choose_step_size_for(RunSettings& s, const DataRows& train, const RunPaths& paths) {
  const StepSizeChoice choice = choose_step_size(s, train);
  nlohmann::json trials = nlohmann::json::array();
  std::printf("--lr auto:");
  for (const StepSizeTrial& t : choice.trials) {
    std::printf(" %g (bound %.2f)", double(t.lr), t.bound);
    trials.push_back({{"lr", as_written(t.lr)},
                      {"bound", std::isfinite(t.bound) ? nlohmann::json(t.bound) : nlohmann::json(nullptr)}});
  }
  std::printf(": chose %g\n", double(choice.lr));
  s.train.optimizer.lr = choice.lr;
  if (!World::get().writes()) return;
  ensure_directory(paths.dir);
  write_file_atomic(paths.dir / "step_size.json",
                    nlohmann::json({{"chosen", as_written(choice.lr)}, {"trials", trials}}).dump(1) + "\n");
}

// Under mpirun every rank must hold the same training data, parameters and
// optimizer state (the same files and binary), or their updates would differ.
void require_same_start_on_every_rank(const Dataset& train, const Vae& model, Trainer& trainer) {
  World& world = World::get();
  if (world.size() == 1) return;
  const auto params = model.parameters();
  const auto state = trainer.optimizer_state();
  std::uint64_t h = train.is_bytes() ? checksum(train.bytes.data(), train.bytes.size())
                                     : checksum(train.floats.data(), train.floats.size() * sizeof(float));
  require_same_as_rank_zero(world.communicator(), h, "the training data");
  h = checksum(params.data(), params.size_bytes());
  h = checksum(state.data(), state.size_bytes(), h);
  require_same_as_rank_zero(world.communicator(), h, "the parameters and optimizer state");
}

void run_training(TrainFlags& f) {
  set_threads(f.threads);
  if (!(f.checkpoint_every >= 0)) {
    char found[32];
    std::snprintf(found, sizeof found, "%g", f.checkpoint_every);
    throw InputError(std::string("--checkpoint-every: expected seconds >= 0, found ") + found);
  }
  const bool resuming = !f.resume.empty();
  const RunPaths paths(resuming ? f.resume : f.out);
  RunSettings s;
  std::optional<Checkpoint> checkpoint;
  if (resuming) {
    checkpoint = load_checkpoint(paths.checkpoint());
    s = settings_from_checkpoint(*checkpoint, paths.checkpoint().string());
    if (f.given("--epochs")) s.epochs = f.epochs;  // extending a run is the one change allowed
  } else {
    s = resolve_settings(f);
    require_fresh_run_directory(paths, f.overwrite);
  }
  RunData data = load_run_data(s);
  complete_for_data(s, data.train);
  if (s.epochs == 0) throw InputError("--epochs must be at least 1");
  const DataRows train_rows = with_label_columns(data.train, s.model.classes);
  gather_held_out(data, s);

  if (!resuming && f.lr == "auto") choose_step_size_for(s, train_rows, paths);
  World& world = World::get();
  // A resumed run's parameters replace the initial ones below: no pretraining for it.
  MixtureStart start;
  if (!resuming && s.pretrain_epochs > 0)
    std::printf("aevb train: pretraining an autoencoder for %zu epochs\n", s.pretrain_epochs), std::fflush(stdout);
  const auto pretrain_epoch = [&](std::size_t epoch, const Bound& b) {
    std::printf("pretraining epoch %zu/%zu: reconstruction %.2f\n", epoch, s.pretrain_epochs, b.reconstruction);
    std::fflush(stdout);
  };
  Vae model = resuming ? Vae(s.model, s.train.seed) : initial_model(s, train_rows, &start, pretrain_epoch);
  if (start.pretrain_epochs > 0)
    std::printf("aevb train: the mixture prior starts from an autoencoder trained for %zu epochs (reconstruction "
                "%.2f nats) and a %zu-component Gaussian mixture fitted to its codes (%zu EM iterations, mean "
                "log-density %.3f)\n",
                start.pretrain_epochs, start.pretrain.reconstruction, s.model.clusters, start.em_iterations,
                start.mixture_log_likelihood);
  Trainer trainer(model, s.train, &world.communicator());
  std::vector<nlohmann::json> metrics;
  std::uint64_t first_epoch = 0, samples_seen = 0;
  EpochPosition resume_at;  // inside first_epoch, where a mid-epoch checkpoint stopped
  if (checkpoint) {
    if (checkpoint->model.input_dim != s.model.input_dim || checkpoint->model.image_channels != s.model.image_channels)
      throw InputError(paths.checkpoint().string() + ": the data no longer matches the checkpoint's model");
    restore_checkpoint(*checkpoint, model, trainer);
    first_epoch = checkpoint->loop.epoch;
    metrics = metrics_from_checkpoint(*checkpoint, paths.checkpoint().string());
    if (!metrics.empty()) samples_seen = metrics.back().value("samples", std::uint64_t{0});
    resume_at = epoch_position_from_checkpoint(*checkpoint, paths.checkpoint().string());
  }
  EpochRunner runner(trainer, train_rows, s.binarize, s.train.seed);
  try {
    runner.check_position(resume_at);
  } catch (const InputError& e) {
    throw InputError(paths.checkpoint().string() + ": " + e.what());
  }
  require_same_start_on_every_rank(data.train, model, trainer);
  const bool writes = world.writes();  // rank 0 alone writes the run's files
  if (writes) {
    ensure_directory(paths.dir);
    // A run killed mid-write left temporaries (model, figures, ...) that its own
    // later writes would not all touch again.
    remove_stale_temporaries(paths.dir);
  }
  std::printf("aevb train: %s, %zu training / %zu validation datapoints, %zu parameters, %zu epochs -> %s\n",
              data.train.source.c_str(), data.train.count, data.validation.count, model.parameters().size(),
              s.epochs, paths.dir.c_str());
  if (world.size() > 1)
    std::printf("aevb train: %d processes, %zu shards of each minibatch\n", world.size(), s.train.shards);
  if (first_epoch >= s.epochs)
    std::printf("nothing to do: the run already has %llu epochs (use --epochs to extend it)\n",
                static_cast<unsigned long long>(first_epoch));

  const StopSignal stop;
  // The signal that stops the run, as rank 0 saw it: every rank must leave at
  // the same minibatch, or the others would wait for it in the next sum.
  int stop_signal = 0;
  const auto agree_on_stop = [&] {
    stop_signal = stop.received();
    if (world.size() > 1) world.communicator().broadcast(&stop_signal, sizeof stop_signal, 0);
    return stop_signal != 0;
  };
  using Clock = std::chrono::steady_clock;
  const auto every = std::chrono::duration<double>(f.checkpoint_every);
  auto last_checkpoint = Clock::now();  // the end of the last write of the run's files
  EpochEndSaves epoch_end_saves(f.checkpoint_every);
  const auto stopped = [&](std::uint64_t epochs_done, std::size_t batches_done) {
    const std::string where =
        batches_done > 0 ? std::to_string(batches_done) + " minibatches of epoch " + std::to_string(epochs_done + 1)
                         : "epoch " + std::to_string(epochs_done);
    std::printf("aevb train: stopped by signal %d after %s; checkpoint saved. Continue with: aevb train --resume %s\n",
                stop_signal, where.c_str(), paths.dir.c_str());
    std::fflush(stdout);
    return Interrupted{stop_signal};
  };
  for (std::uint64_t epoch = first_epoch; epoch < s.epochs; ++epoch) {
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(s.epochs), "batches");
    const auto after_batch = [&](const EpochPosition& at, std::size_t total) {
      progress.update(at.batches, total, at.mean().bound, s.model.decoder_only ? "log p(x, z)" : "bound");
      const bool stopping = agree_on_stop();
      // The epoch's end checkpoints anyway; inside it, by wall time or to stop.
      if (writes && at.batches < total &&
          (stopping || (every.count() > 0 && Clock::now() - last_checkpoint >= every))) {
        save_mid_epoch_checkpoint(paths, model, trainer, s, metrics, epoch, at);
        last_checkpoint = Clock::now();
      }
      return !stopping;
    };
    const EpochResult r = runner.run(epoch, after_batch, SIZE_MAX, epoch == first_epoch ? resume_at : EpochPosition{});
    progress.finish();
    if (r.stopped) throw stopped(epoch, r.position.batches);
    samples_seen += r.position.samples;
    const auto validation = evaluate_on(model, data.validation_x, s);
    const auto test = evaluate_on(model, data.test_x, s);
    metrics.push_back(epoch_metrics(epoch + 1, trainer, samples_seen, r, validation, test));
    const std::string codebook_line = add_codebook_metrics(metrics.back(), model, data, s);
    const bool stopping = agree_on_stop(), last = epoch + 1 == s.epochs;
    const auto epoch_end = Clock::now();
    if (writes && epoch_end_saves.due(std::chrono::duration<double>(epoch_end - last_checkpoint).count(),
                                      stopping || last)) {
      save_run_state(paths, model, trainer, s, metrics, epoch + 1, data.train.source);
      last_checkpoint = Clock::now();
      epoch_end_saves.wrote(std::chrono::duration<double>(last_checkpoint - epoch_end).count());
    }
    const double samples_per_second = double(r.position.samples) / r.position.seconds;
    if (s.model.decoder_only)
      std::printf("epoch %llu: train log p(x, z) at the chains %.2f (log p(x|z) %.2f), %.0f samples/s\n",
                  static_cast<unsigned long long>(epoch + 1), r.train.bound, r.train.reconstruction,
                  samples_per_second);
    else
      std::printf("epoch %llu: train bound %.2f (recon %.2f, KL %.2f)%s%s, %.0f samples/s\n",
                  static_cast<unsigned long long>(epoch + 1), r.train.bound, r.train.reconstruction, r.train.kl,
                  validation ? (", validation " + std::to_string(validation->bound)).c_str() : "",
                  test ? (", test " + std::to_string(test->bound)).c_str() : "", samples_per_second);
    if (!codebook_line.empty()) std::printf("  %s\n", codebook_line.c_str());
    std::fflush(stdout);
    if (stopping && !last) throw stopped(epoch + 1, 0);  // between epochs
  }
  if (!f.no_report && writes) {
    write_run_report(paths, model, data.test.count > 0 ? data.test : data.validation, s.binarize, s.train.seed);
    std::printf("report: %s\n", paths.report().c_str());
  }
  std::printf("model: %s\n", paths.model().c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  TrainFlags& f = *flags;
  CLI::App* cmd = app.add_subcommand("train", "train a VAE with minibatch AEVB (Algorithm 1)");
  f.cmd = cmd;
  cmd->add_option("--preset", f.preset,
                  "paper-mnist or paper-frey (the paper's setups, sec. 5), conv-mnist (a small conv VAE), "
                  "iwae-mnist-1layer (Burda et al.'s 784-200-200-50 VAE and schedule), iwae-mnist-2layer (their "
                  "2-stochastic-layer model, same training), cluster-mnist and cluster-fashion-mnist (the "
                  "clustering VAE, 10 clusters), vade-mnist and vade-fashion-mnist (VaDE), cvae-mnist (the "
                  "conditional VAE given the digits' labels), vq-mnist and vq-fashion-mnist (VQ-VAE, 7x7 codes)");
  cmd->add_option("--config", f.config_file, "settings file (.json or .toml): sections model, train, run");
  cmd->add_option("--data", f.data, "mnist, fashion-mnist, frey, or a file/folder (IDX, NPY, CSV, PNGs)");
  cmd->add_option("--limit", f.limit, "use only the first N training datapoints");
  cmd->add_option("--scaling", f.scaling, "float data: unit, minmax or none")->capture_default_str();
  cmd->add_flag("--grey", f.grey, "read colour images as grey (Rec. 709 luminance)");
  cmd->add_flag("--full-vb", f.full_vb,
                "full VB (App. F): a Gaussian q(theta) over the decoder's parameters, trained with the encoder");
  cmd->add_option("--binarize", f.binarize, "none, dynamic (resampled every epoch) or fixed");
  cmd->add_option("--validation", f.validation, "held-out datapoints: a count, a fraction < 1, or 0");
  cmd->add_option("--test-eval", f.test_eval, "test images evaluated after each epoch (0: none)");
  cmd->add_option("--family", f.family,
                  "vae (the paper's), vae-2layer (a second stochastic layer z2 above z, Burda et al.), cluster (K "
                  "clusters y beside z: the clustering VAE), vade (VaDE: a Gaussian-mixture prior), cvae (the "
                  "conditional VAE: q(z|x, y), p(x|z, y) given the data's labels), vq (VQ-VAE: a grid of codes from "
                  "a learned codebook) or autoencoder (a point z, no KL)");
  cmd->add_option("--algorithm", f.algorithm,
                  "aevb (Algorithm 1), wake-sleep (the paper's baseline), rws (reweighted wake-sleep, K = --samples), "
                  "full-vb (App. F, with --full-vb) or mcem (Monte Carlo EM, App. E: no encoder, whole-set batches)");
  cmd->add_option("--rws-q", f.rws_q, "what trains rws's encoder: wake (the data, default), sleep (dreams) or both");
  cmd->add_option("--hidden", f.hidden,
                  "hidden layer widths of an MLP, encoder order (the decoder mirrors them): 200 200 or 200,200")
      ->delimiter(',');
  cmd->add_option("--encoder", f.encoder,
                  "encoder layers, e.g. conv:32:4:2:1,conv:64:4:2:1,dense:256 (docs/architectures.md)");
  cmd->add_option("--decoder", f.decoder,
                  "decoder layers ending at the data, e.g. dense:3136,unflatten:64:7:7,deconv:32:4:2:1,deconv:1:4:2:1 "
                  "(default: the encoder's mirror)");
  cmd->add_option("--latent", f.latent, "latent dimensions Nz (z1, what the decoder reads, for vae-2layer)");
  cmd->add_option("--top-latent", f.top_latent, "vae-2layer: dimensions of the second stochastic layer z2");
  cmd->add_option("--top-hidden", f.top_hidden,
                  "vae-2layer: hidden widths of q(z2|z1), z1 to z2 (p(z1|z2) mirrors them): 100,100")
      ->delimiter(',');
  cmd->add_option("--clusters", f.clusters, "cluster, vade: the number of clusters K (at least 2)");
  cmd->add_option("--classes", f.classes,
                  "cvae: the label classes K the model is conditioned on (default: 1 + the largest training label)");
  cmd->add_option("--classifier-hidden", f.classifier_hidden,
                  "cluster: hidden widths of the classifier q(y|z) from z to the K logits: 256 (none: linear)")
      ->delimiter(',');
  cmd->add_option("--pretrain-epochs", f.pretrain_epochs,
                  "vade: epochs of an autoencoder trained first; the mixture prior starts from a Gaussian mixture "
                  "fitted to its codes, as VaDE starts (0: from the init)");
  cmd->add_option("--codes", f.codes, "vq: the codebook's K codes (at least 1)");
  cmd->add_option("--code-dim", f.code_dim,
                  "vq: values per code D; the encoder's grid has latent / D positions (--latent = D x positions)");
  cmd->add_option("--commitment", f.commitment, "vq: beta of the commitment term beta ||z_e - sg[e]||^2 (0.25)");
  cmd->add_option("--codebook", f.codebook,
                  "vq: how the codebook learns: ema (moving averages, decay --codebook-decay; default) or gradient");
  cmd->add_option("--codebook-decay", f.codebook_decay, "vq: the moving averages' decay gamma (0.99)");
  cmd->add_flag("--no-code-restarts", f.no_code_restarts,
                "vq: keep dead codes (by default a code used less than once per minibatch, on average, moves to "
                "an encoder output of the minibatch)");
  cmd->add_option("--activation", f.activation, "tanh, relu, leaky-relu, softplus or sigmoid");
  cmd->add_option("--likelihood", f.likelihood, "bernoulli, gaussian (learned variance) or gaussian-fixed");
  cmd->add_option("--variance", f.variance, "the fixed variance c of gaussian-fixed");
  cmd->add_option("--init", f.init, "paper (N(0, 0.01^2)), glorot or he");
  cmd->add_option("--output-bias", f.output_bias,
                  "where the decoder's output bias starts: zero, or data-mean (the decoder's mean at the "
                  "training data's mean; the iwae presets' default)");
  cmd->add_option("--estimator", f.estimator, "A (eq. 6), B (eq. 7) or iw (importance-weighted bound)");
  cmd->add_option("--samples", f.samples, "samples per datapoint: L for A/B, k for iw");
  cmd->add_option("--beta", f.beta, "KL weight (1: the true bound)");
  cmd->add_option("--kl-warmup", f.warmup, "epochs over which the KL weight ramps up to beta");
  cmd->add_option("--optimizer", f.optimizer, "sgd, adagrad or adam");
  cmd->add_option("--lr", f.lr,
                  "learning rate, or auto: the best of 3 candidates (Adagrad: 0.01, 0.02, 0.1) over the first 200 "
                  "steps, as the paper chose");
  cmd->add_option("--lr-schedule", f.lr_schedule,
                  "constant, step:EVERY:GAMMA, exponential:GAMMA, cosine:EPOCHS[:MIN_FACTOR] or burda (Burda et "
                  "al.: 3^i epochs at lr * 10^(-i/7), i = 0..7), in epochs");
  cmd->add_option("--lr-warmup", f.lr_warmup, "optimizer steps over which the learning rate ramps up linearly");
  cmd->add_option("--adam-eps", f.adam_eps, "Adam's epsilon (default 1e-8; Burda et al.: 1e-4)");
  cmd->add_option("--adam-betas", f.adam_betas, "Adam's B1,B2 (default 0.9,0.999)")->delimiter(',');
  cmd->add_option("--momentum", f.momentum, "SGD momentum");
  cmd->add_option("--weight-decay", f.weight_decay, "L2 weight per datapoint, or 'prior' for 1/N: the N(0, I) prior");
  cmd->add_option("--clip-norm", f.clip_norm, "clip the gradient norm (0: off)");
  cmd->add_option("--batch", f.batch, "minibatch size M (mcem: always the whole training set)");
  cmd->add_option("--shards", f.shards,
                  "cut each minibatch into S shards whose gradients are added in order (default 1); under mpirun "
                  "the ranks share them, and the model equals one process's with the same S (docs/distributed.md)");
  cmd->add_option("--matmul-precision", f.matmul_precision,
                  "float32, or bfloat16: training products rounded to bfloat16, on AMX or AVX512-BF16 (evaluation "
                  "stays float32)");
  cmd->add_option("--epochs", f.epochs, "epochs (with --resume: the new total)");
  cmd->add_option("--seed", f.seed, "seed of every random choice (init, noise, order, binarization)");
  cmd->add_option("--checkpoint-every", f.checkpoint_every,
                  "seconds of training between checkpoints, inside an epoch too (0: at the end of every epoch "
                  "only); epoch ends also write while writing takes at most 5% of the time, and the last epoch "
                  "always; Ctrl-C or SIGTERM checkpoints at the next minibatch and stops")
      ->capture_default_str();
  add_threads_option(*cmd, f.threads);
  cmd->add_option("--out", f.out, "run directory")->capture_default_str();
  cmd->add_option("--resume", f.resume, "continue the run in this directory from its last checkpoint");
  cmd->add_flag("--overwrite", f.overwrite, "replace a run already in --out");
  cmd->add_flag("--no-report", f.no_report, "skip report.html and the figures at the end");
  cmd->callback([flags] { run_training(*flags); });
}

}  // namespace aevb::cli
