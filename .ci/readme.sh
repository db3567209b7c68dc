# Reads the commands a newcomer copies out of README.md, so that CI runs
# what the README says and not a copy of it that could drift apart.
# Sourced by .ci/run and .ci/front-door.

# readme_block_line SECTION N: the N-th line of the first ```sh block under
# the heading "## SECTION" (nothing if there is no such line).
readme_block_line() {
  awk -v section="## $1" -v want="$2" '
    $0 == section { inside = 1; next }
    inside && /^## / { exit }
    inside && !block && /^```sh/ { block = 1; next }
    block && /^```/ { exit }
    block { if (++n == want) { print; exit } }
  ' README.md
}

# readme_line_matching SECTION PATTERN: the first line of a ```sh block
# under "## SECTION" that matches the awk regular expression PATTERN.
readme_line_matching() {
  awk -v section="## $1" -v pattern="$2" '
    $0 == section { inside = 1; next }
    inside && /^## / { exit }
    inside && /^```sh/ { block = 1; next }
    block && /^```/ { block = 0; next }
    block && $0 ~ pattern { print; exit }
  ' README.md
}

readme_serve_command() { readme_block_line "Two commands on a fresh machine" 1; }
readme_test_command() { readme_block_line "Two commands on a fresh machine" 2; }
