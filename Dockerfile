# A static Verge binary on an empty base (no shell, no package manager), running as a non-root
# user; only the system's CA roots come along, to verify HTTPS origins.
#   docker build -t verge .
#   docker run -p 8080:8080 -p 8081:8081 -v $PWD/site.yaml:/etc/verge/verge.yaml:ro verge
# The configuration must listen on 0.0.0.0 inside the container, and a non-loopback admin port
# needs admin_tokens (or VERGE_ADMIN_TOKENS).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/verge ./cmd/verge

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/verge /usr/local/bin/verge
COPY --from=build --chown=65532:65532 /tmp /var/lib/verge
USER 65532:65532
WORKDIR /var/lib/verge
EXPOSE 8080 8081 8443 7946/tcp 7946/udp
# `verge health` asks the admin port's /healthz: the image has no shell and no curl.
HEALTHCHECK --interval=10s --timeout=6s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/verge", "health", "--admin", "http://127.0.0.1:8081"]
ENTRYPOINT ["/usr/local/bin/verge"]
CMD ["serve", "--config", "/etc/verge/verge.yaml", "--data", "/var/lib/verge"]
