// Precompiled for the unit tests (meson's cpp_pch): the library, all of Asio and doctest, which
// every test file includes; parsing them once saves about a quarter of each file's compile time.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>
