with source as (
    select * from {{ source('benchling', 'teams') }}
),

renamed as (
    select
        id as team_id,
        name,
        organization__id as organization_id,
        _synced_at
    from source
)

select * from renamed
