{{- define "tsnctl.labels" -}}
app.kubernetes.io/name: tsnctl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "tsnctl.serviceAccount" -}}
system:serviceaccount:{{ .Release.Namespace }}:tsnctl-agent
{{- end -}}
