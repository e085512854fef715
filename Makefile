# Two commands: `make demo` and `make test` (see README). Both install missing
# Debian packages first, then configure and build with CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure test test-asan fuzz fuzz-seeds demo paper reproduce bench clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# The C++ suite, then the Python module's (tests/python) under Debian's
# interpreter, the one with numpy and pytest.
test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	PYTHONPATH=$(BUILD)/python PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python

# The suite under AddressSanitizer + UBSan (used by CI), at -O1 as the ASan
# documentation advises: -O0 made the statistical tests on MNIST run 10x
# slower than Release and past ctest's timeout. It leaves out the longest
# end-to-end trainings on real data, whose code the shorter tests run under
# the sanitizers too: under them these took over 20 of the suite's minutes
# on 2 cores (docs/testing.md). `make test` runs them.
ASAN_SKIP = HmcLikelihood.AgreesWithImportanceSamplingOnMnist \
  CliPaper.WritesTheFiguresAndChecksTheClaimsThenResumes CliPaper.TheSeedDemonstrationsMeasureEveryRun \
  CliAlgorithms.AevbIsAheadOfWakeSleepAtTheSameBudget CliAlgorithms.McemResumesExactlyAndItsMarginalLikelihoodRises \
  Inpainting.CompletesTheBottomHalfOfMnistBetterThanTheMeanImage \
  CliVq.PresetTrainsBrieflyToManyCodesAndAReconstructionFarBelowTheMeanImages \
  CliVq.CodePriorBeatsTheUniformPriorAndSamplesDecodeItsCodes
empty :=
space := $(empty) $(empty)
test-asan: deps
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DAEVB_SANITIZE=ON -DAEVB_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest --output-on-failure -j $(JOBS) -E '^($(subst $(space),|,$(strip $(ASAN_SKIP))))$$'

# Every file reader under libFuzzer + ASan + UBSan (clang), FUZZ_SECONDS
# seconds per target; fails on any finding (docs/reliability.md).
fuzz:
	@scripts/install-deps.sh --with-fuzz
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG=-O1 -DAEVB_FUZZ=ON -DAEVB_BUILD_TESTS=OFF -DAEVB_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_BUILD)

# Rewrites fuzz/seeds/ from the shared data and a CLI built in $(BUILD).
fuzz-seeds: all
	fuzz/make-seeds.py --aevb $(BUILD)/aevb

demo: all
	scripts/demo.sh $(BUILD)

# The paper's Figs. 2-5 (docs/paper.md): PAPER_BUDGET training samples per
# run, resumable (run it again after a stop), into runs/paper.
PAPER_BUDGET ?= 1e6
paper: all
	$(BUILD)/aevb paper --budget $(PAPER_BUDGET) --out runs/paper

# Burda et al.'s MNIST table (docs/reproduction.md): hours of training per
# model; rerunning resumes. MODELS="vae-k1 iwae-k5 iwae-k50", each also with
# -2layer (Burda's two stochastic layers); default vae-k1.
reproduce: all
	scripts/reproduce-burda.sh $(BUILD)

bench: all
	scripts/install-deps.sh --with-torch
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
