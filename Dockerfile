# The eosim image for sharded sweeps (see deploy/ and the README).
#   docker build -t eosim:0.1.0 .
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin eosim

FROM debian:bookworm-slim
COPY --from=build /src/target/release/eosim /usr/local/bin/eosim
COPY --from=build /src/scenarios /scenarios
WORKDIR /work
ENTRYPOINT ["eosim"]
CMD ["run", "/scenarios"]
