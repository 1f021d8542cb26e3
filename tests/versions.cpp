// Prints what this build was compiled against; scripts/versions.sh shows it for each CI leg.
#include <async_generator/compat/asio_all.hpp>
#include <async_generator/compat/fiber.hpp>

#include <cstdio>

int main() {
  const int asio = ASYNC_GENERATOR_ASIO_VERSION;
  std::printf("compiled against: Boost %d.%d.%d (BOOST_VERSION %d); %s %d.%d.%d (%s %d); C++ %ld;"
              " each fiber keeps its own exception state: %s\n",
              BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, BOOST_VERSION,
              ASYNC_GENERATOR_ASIO_NAME, asio / 100000, asio / 100 % 1000, asio % 100, ASYNC_GENERATOR_ASIO_VERSION_NAME, asio,
              static_cast<long>(__cplusplus), async_generator::compat::fiber_keeps_exception_state ? "yes" : "no");
}
