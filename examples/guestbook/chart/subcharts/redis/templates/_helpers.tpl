{{/*
Redis' fully qualified name: "<release>-redis". It names the StatefulSet, so it is kept
to 52 characters (a StatefulSet's pods get a controller-revision-hash label of
<name>-<10 characters>, which must fit in 63); a longer name is shortened with a hash
so two long releases never share one. Needs only .Release and .Values, so the parent
chart includes it with (dict "Release" .Release "Values" .Values.redis) to find the Service.
*/}}
{{- define "redis.fullname" -}}
{{- $name := .Values.fullnameOverride | default (printf "%s-redis" .Release.Name) }}
{{- if gt (len $name) 52 }}
{{- printf "%s-%s" ($name | trunc 43 | trimSuffix "-") ($name | sha256sum | trunc 8) }}
{{- else }}
{{- $name }}
{{- end }}
{{- end }}

{{- define "redis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "redis.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: cache
{{- end }}

{{- define "redis.labels" -}}
helm.sh/chart: {{ include "redis.chart" . }}
{{ include "redis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: guestbook
{{- end }}
