// The scenarios of the differential test (tests/differential/scenarios.py describes them and
// writes them): their model and a reader for their text format.
#ifndef ASYNC_GENERATOR_TESTS_DIFFERENTIAL_SCENARIO_HPP
#define ASYNC_GENERATOR_TESTS_DIFFERENTIAL_SCENARIO_HPP

#include <istream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace differential {

struct try_block;

// One statement of a generator body.
struct step {
  enum kind_type { yield, await, raise, reraise, return_, yield_from, try_ } kind;
  int value = 0;      // yield: the value; return: the value; yield_from: the generator's number
  std::string error;  // raise: the error's name (E1, E2, E3; Stop: stop_async_iteration)
  std::shared_ptr<const try_block> block;  // try_
};
using body = std::vector<step>;

struct handler {
  std::string kind;  // E1, E2, E3, exit (generator_exit), any (everything)
  body statements;
};

struct try_block {
  body statements;
  std::vector<handler> handlers;
  bool has_finally = false;
  body finally_statements;
};

// One consumer operation on the scenario's top-level generator.
struct operation {
  std::string name;  // anext, asend, athrow, aclose
  int value = 0;     // asend
  std::string kind;  // athrow: E1, E2, E3, exit, Stop
  std::string text;  // as the trace shows it: "asend:100"
};

struct scenario {
  int ident = 0;
  bool valued = false;        // return values and yield_from_: async_generator<int, int, int>
  std::string consumer;       // callback (handlers), spawn (an asio::spawn coroutine)
  std::vector<body> gens;     // gens[0] is the one the consumer drives
  std::vector<operation> ops;
};

// Reads the format scenarios.py writes; throws std::runtime_error on a malformed input.
class scenario_reader {
 public:
  explicit scenario_reader(std::istream& in) : in_(in) {}

  // The next scenario, or false at the end of the input.
  bool next(scenario& out) {
    std::vector<std::string> words;
    if (!read(words)) return false;
    expect(words.size() == 4 && words[0] == "scenario", "scenario <id> <mode> <consumer>");
    out = scenario();
    out.ident = std::stoi(words[1]);
    out.valued = words[2] == "valued";
    out.consumer = words[3];
    read_required(words);
    while (words[0] == "gen") {
      out.gens.push_back(read_body(words));
    }
    expect(words[0] == "ops", "ops");
    for (std::size_t i = 1; i < words.size(); ++i) out.ops.push_back(parse_operation(words[i]));
    read_required(words);
    expect(words[0] == "endscenario", "endscenario");
    return true;
  }

 private:
  // Reads the steps after a block-opening line; leaves in `words` the line that closed the block.
  body read_body(std::vector<std::string>& words) {
    body statements;
    for (;;) {
      read_required(words);
      const std::string& head = words[0];
      if (head == "except" || head == "finally" || head == "end" || head == "gen" || head == "ops") {
        return statements;
      }
      step s;
      if (head == "try") {
        s.kind = step::try_;
        s.block = read_try(words);
      } else if (head == "yield" || head == "return" || head == "yieldfrom") {
        expect(words.size() == 2, head + " <n>");
        s.kind = head == "yield" ? step::yield : head == "return" ? step::return_ : step::yield_from;
        s.value = std::stoi(words[1]);
      } else if (head == "raise") {
        expect(words.size() == 2, "raise <error>");
        s.kind = step::raise;
        s.error = words[1];
      } else if (head == "reraise") {
        s.kind = step::reraise;
      } else {
        expect(head == "await", "a step");
        s.kind = step::await;
      }
      statements.push_back(std::move(s));
    }
  }

  std::shared_ptr<const try_block> read_try(std::vector<std::string>& words) {
    auto block = std::make_shared<try_block>();
    block->statements = read_body(words);
    while (words[0] == "except") {
      expect(words.size() == 2, "except <kind>");
      handler h;
      h.kind = words[1];
      h.statements = read_body(words);
      block->handlers.push_back(std::move(h));
    }
    if (words[0] == "finally") {
      block->has_finally = true;
      block->finally_statements = read_body(words);
    }
    expect(words[0] == "end", "end of a try block");
    return block;
  }

  static operation parse_operation(const std::string& word) {
    operation op;
    op.text = word;
    const auto colon = word.find(':');
    op.name = word.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string argument = word.substr(colon + 1);
      if (op.name == "asend") {
        op.value = std::stoi(argument);
      } else {
        op.kind = argument;
      }
    }
    return op;
  }

  // The next non-empty, non-comment line, split into words; false at the end of the input.
  bool read(std::vector<std::string>& words) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_number_;
      std::istringstream split(line);
      words.clear();
      std::string word;
      while (split >> word) words.push_back(word);
      if (!words.empty() && words[0][0] != '#') return true;
    }
    return false;
  }
  void read_required(std::vector<std::string>& words) { expect(read(words), "more input"); }

  void expect(bool ok, const std::string& what) const {
    if (!ok) throw std::runtime_error("scenario input, line " + std::to_string(line_number_) + ": expected " + what);
  }

  std::istream& in_;
  int line_number_ = 0;
};

}  // namespace differential

#endif
