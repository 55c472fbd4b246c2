# Shared by the bin/ scripts (sourced from the repository root): build only when the build is not
# current, then keep the class path in an argument file (ONNX Runtime's native start-up crashes on
# command lines over about 4 KB; the class path is about 15 KB).

# True when WORK/java.args is newer than every pom, source and configuration file.
build_current() {
  local args="$1/java.args"
  [[ -f "$args" ]] || return 1
  [[ -z "$(find pom.xml ./*/pom.xml ./*/src src -newer "$args" -type f -print -quit 2>/dev/null)" ]]
}

# ensure_build WORK MODULE SCOPE: builds MODULE (and what it needs) unless current and writes
# WORK/java.args with its classes and its SCOPE (compile or test) class path.
ensure_build() {
  local work="$1" module="$2" scope="$3"
  mkdir -p "$work"
  if build_current "$work"; then
    return 0
  fi
  echo "canaryflow | building (the first run downloads dependencies) ..." >&2
  local goals=(install)
  [[ "$scope" == test ]] && goals=(install)
  mvn -B -q -ntp -Dstyle.color=never "${goals[@]}" -DskipTests -Dspotless.check.skip=true -pl "$module" -am >&2
  mvn -B -q -ntp -Dstyle.color=never -pl "$module" dependency:build-classpath -Dmdep.includeScope="$scope" \
    -Dmdep.outputFile="$PWD/$work/classpath.txt" >&2
  local classes="$module/target/classes"
  if [[ "$scope" == test ]]; then
    mvn -B -q -ntp -Dstyle.color=never -pl "$module" test-compile -Dspotless.check.skip=true >&2
    classes="$module/target/test-classes:$classes"
  fi
  echo "-cp $PWD/$classes:$(cat "$work/classpath.txt")" > "$work/java.args"
}
