/*
 * fuzz_config.cpp — libFuzzer target for the config parsers (core/config_yaml.cpp, config_env.cpp): arbitrary bytes as
 * a YAML file and as environment lines. Checks that nothing but std::bad_alloc escapes, and the invariants the server
 * relies on: a file with problems sets nothing, every diagnostic has text.
 *
 *   make fuzz-config FUZZ_SECONDS=300     (make test runs it for a few seconds)
 */
#include "indexpilot/core/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace indexpilot::core;

static void
Require(bool condition)
{
	if (!condition)
		std::abort();
}

extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	const std::string text(reinterpret_cast<const char *>(data), size);

	const SourceConfig file = ParseConfigYaml(text, "fuzz.yaml");
	if (!file.ok()) {
		Require(file.layer.IsEmpty());
		Require(file.mode == BypassMode::None);
	}
	for (const auto &d : file.diagnostics)
		Require(!d.ToString().empty() && !d.message.empty());

	// The same bytes as environment lines, each made to look like one of ours half of the time.
	std::vector<std::string> env;
	std::size_t start = 0;
	while (start <= text.size()) {
		std::size_t end = text.find('\n', start);
		if (end == std::string::npos)
			end = text.size();
		std::string line = text.substr(start, end - start);
		if (!line.empty() && (line[0] & 1))
			line = "INDEXPILOT_BYPASS_" + line.substr(1);
		env.push_back(line);
		start = end + 1;
	}
	const SourceConfig environment = ParseEnvironment(env);
	for (const auto &d : environment.diagnostics)
		Require(d.file == "environment" && !d.message.empty());

	// Names: either a switch comes back or an Error is thrown; nothing else.
	try {
		(void)ParseAnySwitchName(text);
	} catch (const std::exception &) {
	}
	(void)IsStartupBypass(text.c_str());

	Inputs in;
	in.environment = environment.layer;
	in.file = file.layer;
	const Resolution r = Resolve(in);
	Require((r.effective & ~((1u << kSwitchCount) - 1)) == 0);
	return 0;
}
