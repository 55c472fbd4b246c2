# Shared by the bin/ scripts (sourced; call ensure_build from the repository root): build only
# when the build is not current, then keep the class path in an argument file (ONNX Runtime's
# native start-up crashes on command lines over about 4 KB; the class path is about 15 KB).

# True when WORK/java.args is newer than every pom and source file and the classes it names exist.
build_current() {
  local args="$1/java.args"
  [[ -f "$args" ]] || return 1
  local first
  first="$(sed -e 's/^-cp //' -e 's/:.*//' "$args")"
  [[ -d "$first" ]] || return 1   # e.g. after mvn clean
  [[ -z "$(find pom.xml ./*/pom.xml ./*/src src -newer "$args" -type f -print -quit 2>/dev/null)" ]]
}

# ensure_build WORK MODULE SCOPE: builds MODULE (and what it needs) unless current and writes
# WORK/java.args with its classes and its SCOPE (compile or test) class path.
ensure_build() {
  local work="$1" module="$2" scope="$3"
  [[ "$work" == /* ]] || work="$PWD/$work"
  mkdir -p "$work"
  if build_current "$work"; then
    return 0
  fi
  echo "canaryflow | building (the first run downloads dependencies) ..." >&2
  mvn -B -q -ntp -Dstyle.color=never install -DskipTests -Dspotless.check.skip=true -pl "$module" -am >&2
  mvn -B -q -ntp -Dstyle.color=never -pl "$module" dependency:build-classpath -Dmdep.includeScope="$scope" \
    -Dmdep.outputFile="$work/classpath.txt" >&2
  local classes="$PWD/$module/target/classes"
  if [[ "$scope" == test ]]; then
    mvn -B -q -ntp -Dstyle.color=never -pl "$module" test-compile -Dspotless.check.skip=true >&2
    classes="$PWD/$module/target/test-classes:$classes"
  fi
  echo "-cp $classes:$(cat "$work/classpath.txt")" > "$work/java.args"
}
