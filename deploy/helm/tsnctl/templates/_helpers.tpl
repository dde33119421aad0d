{{- /*
Every value that lands in a manifest goes through toJson (a string as a JSON string, which YAML
reads as that string, whatever it holds: on, 123, quotes, newlines) or is a number the schema
bounds (values.schema.json).
*/ -}}
{{- define "tsnctl.labels" -}}
app.kubernetes.io/name: tsnctl
app.kubernetes.io/instance: {{ .Release.Name | toJson }}
app.kubernetes.io/version: {{ .Chart.AppVersion | toJson }}
app.kubernetes.io/managed-by: {{ .Release.Service | toJson }}
{{- end -}}
{{- define "tsnctl.serviceAccount" -}}
system:serviceaccount:{{ .Release.Namespace }}:tsnctl-agent
{{- end -}}
{{- /* A tag is a string, or --set's int64 (digits as given); values-checks.yaml refuses a float64. */ -}}
{{- define "tsnctl.image" -}}
{{- $tag := .Values.image.tag -}}
{{- if eq (toString $tag) "" }}{{ $tag = .Chart.AppVersion }}{{ end -}}
{{ printf "%s:%v" .Values.image.repository $tag | toJson }}
{{- end -}}
{{- /*
tsnctl.exact walks a value (dict "path" "where" "value" v) and fails on a float64 of 2^53 or more:
Helm reads a values file's numbers (and --set-json's) as float64, so such a number reached the
template already rounded (1700000000123456789 arrives as 1700000000123456768). --set's integers
are int64, exact, and pass.
*/ -}}
{{- define "tsnctl.exact" -}}
{{- $v := .value -}}
{{- if kindIs "map" $v -}}
{{- range $k, $e := $v }}{{ include "tsnctl.exact" (dict "path" (ternary $k (printf "%s.%s" $.path $k) (eq $.path "")) "value" $e) }}{{ end -}}
{{- else if kindIs "slice" $v -}}
{{- range $i, $e := $v }}{{ include "tsnctl.exact" (dict "path" (printf "%s[%d]" $.path $i) "value" $e) }}{{ end -}}
{{- else if and (kindIs "float64" $v) (or (ge $v 9007199254740992.0) (le $v -9007199254740992.0)) -}}
{{- fail (printf "%s: the number %.0f is not the one given: Helm reads a values file's numbers as float64, exact below 2^53 (9007199254740992) only, and rounded this one; give it as a string where the field takes one (a TSNConfig's base-time: \"1700000000123456789\"), or with --set, which reads integers exactly" .path $v) -}}
{{- end -}}
{{- end -}}
